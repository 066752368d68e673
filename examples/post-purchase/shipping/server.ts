import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ShippingServiceOptions {
  /** How long each answer takes, in ms. */
  delayMs?: number;
  /** Every n-th new request is first refused with 503 (then accepted when sent again); 0: never. */
  failEvery?: number;
}

export interface ShippingService {
  url: string;
  /** Requests received, shipments accepted (one per idempotency key), answers repeated for a known key. */
  stats(): { requests: number; accepted: number; deduplicated: number; refused: number };
  /** Idempotency keys of the shipments accepted, with their tracking numbers. */
  accepted: Map<string, string>;
  /** Takes the carrier down (every request answered 503) or brings it back; counts the requests while down. */
  setDown(down: boolean): void;
  /** Requests received while the carrier was down. */
  whileDown(): number;
  close(): Promise<void>;
}

/**
 * A stand-in for a carrier's API: `POST /shipments` with an `Idempotency-Key` header and `{ orderId,
 * shippingType, postalCode }`. It answers slowly, refuses some first requests with 503, and deduplicates by
 * key as real payment and shipping APIs do: the same key twice gets the first answer, not a second shipment.
 */
export async function startShippingService(
  { delayMs = 20, failEvery = 0 }: ShippingServiceOptions = {},
  port = 0,
): Promise<ShippingService> {
  const accepted = new Map<string, string>();
  const refusedOnce = new Set<string>();
  const counts = { requests: 0, accepted: 0, deduplicated: 0, refused: 0 };
  const outage = { down: false, requests: 0 };
  const server = http.createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/stats') return reply(200, counts);
    if (req.method !== 'POST' || req.url !== '/shipments') return reply(404, { error: 'POST /shipments' });
    let body = '';
    for await (const chunk of req) body += chunk;
    counts.requests++;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (outage.down) {
      outage.requests++;
      return reply(503, { error: 'carrier down' });
    }
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !key) return reply(400, { error: 'an Idempotency-Key header is required' });
    const known = accepted.get(key);
    if (known) {
      counts.deduplicated++;
      return reply(200, { trackingNumber: known, duplicate: true });
    }
    const request = JSON.parse(body || '{}') as { postalCode?: string | null };
    if (!request.postalCode) return reply(422, { error: 'the address has no postal code' });
    if (failEvery > 0 && !refusedOnce.has(key) && counts.requests % failEvery === 0) {
      refusedOnce.add(key);
      counts.refused++;
      return reply(503, { error: 'carrier busy, try again' });
    }
    const trackingNumber = `TRK-${crypto.createHash('sha256').update(key).digest('hex').slice(0, 12).toUpperCase()}`;
    accepted.set(key, trackingNumber);
    counts.accepted++;
    return reply(201, { trackingNumber });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    stats: () => ({ ...counts }),
    accepted,
    setDown: (down) => (outage.down = down),
    whileDown: () => outage.requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
