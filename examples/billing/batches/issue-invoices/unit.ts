import { defineUnit, NonRetryableError } from 'tju';

export interface IssueInvoiceInput {
  subscriptionId: string;
  billingDate: string;
  paymentMethod: string;
}

/**
 * Unit: issue one subscription's invoice for one billing date. Lock, guard, write — in one transaction
 * that tju opens. Call it from app code too: `issueInvoice.execute(pool, input)`.
 */
export const issueInvoice = defineUnit<IssueInvoiceInput>({
  name: 'billing.issue-invoice',
  async run(tx, { subscriptionId, billingDate, paymentMethod }) {
    // Lock the subscription so concurrent runs for it queue up behind this one.
    const { rows } = await tx.query<{ monthly_fee: string | null }>('SELECT monthly_fee FROM subscriptions WHERE id = $1 FOR UPDATE', [
      subscriptionId,
    ]);
    if (rows.length === 0) throw new NonRetryableError(`subscription ${subscriptionId} does not exist`);

    const issued = await tx.query('SELECT 1 FROM invoices WHERE subscription_id = $1 AND billing_date = $2', [subscriptionId, billingDate]);
    if (issued.rowCount) return 'skipped';

    const fee = rows[0].monthly_fee;
    if (fee === null) throw new NonRetryableError(`subscription ${subscriptionId} has no monthly fee`);

    await tx.query(`INSERT INTO invoices (subscription_id, billing_date, amount, payment_method) VALUES ($1, $2, $3, $4)`, [
      subscriptionId,
      billingDate,
      fee,
      paymentMethod,
    ]);
    return 'succeeded';
  },
});
