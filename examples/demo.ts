// `npm run demo` runs the billing demo; `npm run demo -- post-purchase` the post-purchase one. Flags after the
// name go to that demo (`npm run demo -- post-purchase --orders 500`).
const [first, ...rest] = process.argv.slice(2);
const app = first === 'post-purchase' ? 'post-purchase' : 'billing';
const args = first === 'post-purchase' || first === 'billing' ? rest : process.argv.slice(2);
process.argv = [process.argv[0], process.argv[1], 'demo', ...args];
void import(`./${app}/cli`);
