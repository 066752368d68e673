/**
 * A statement's values, numbered in the order they are added: `params.add(x)` returns the `$n` that carries
 * `x`, so a statement built from parts never counts placeholders by hand.
 */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
