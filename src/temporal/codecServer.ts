import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { protos } from '../util/lazy';

export interface CodecServerOptions {
  /** Origins allowed to call from a browser (CORS): the Web UI's. Requests from any other origin are refused. */
  allowOrigins?: readonly string[];
  /**
   * The bearer token every /encode and /decode must carry (`Authorization: Bearer <token>`, the shape the Web UI
   * sends with "Pass access token" and `temporal --codec-auth`). Without one, anyone who reaches it can decrypt.
   */
  token?: string;
}

/** The largest request read: the Web UI sends a page of payloads, each within Temporal's 2 MB blob limit. */
export const MAX_CODEC_BODY_BYTES = 8 * 1024 * 1024;

class TooLarge extends Error {}

async function readBody(req: http.IncomingMessage): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_CODEC_BODY_BYTES) throw new TooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CODEC_BODY_BYTES) throw new TooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const tokenMatches = (header: string | undefined, token: string): boolean => {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
};

/**
 * Temporal's remote codec protocol: POST /encode and /decode with `{ payloads: [...] }` in proto JSON. The Web
 * UI (its "Codec Server" setting) and `temporal --codec-endpoint` call it to show what the codec encrypted.
 */
export function createCodecServer(codec: PayloadCodec, { allowOrigins = [], token }: CodecServerOptions = {}): http.Server {
  return http.createServer(async (req, res) => {
    const reply = (status: number, text: string) => void res.writeHead(status, { 'content-type': 'text/plain' }).end(`${text}\n`);
    const origin = req.headers.origin;
    res.setHeader('Vary', 'Origin');
    if (origin !== undefined) {
      if (!allowOrigins.includes(origin)) return reply(403, `origin ${origin} is not allowed`);
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'content-type, x-namespace, authorization');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const path = new URL(req.url ?? '/', 'http://codec').pathname.replace(/\/$/, '');
    if (req.method !== 'POST' || (path !== '/encode' && path !== '/decode')) return reply(404, 'POST /encode or /decode');
    // Refused before the body is read.
    if (token !== undefined && !tokenMatches(req.headers.authorization, token)) {
      return reply(401, 'a bearer token is required (Authorization: Bearer <TJU_CODEC_TOKEN>)');
    }
    try {
      const { payloads } = protos().api.common.v1.Payloads.fromObject(JSON.parse(await readBody(req)));
      const out = path === '/encode' ? await codec.encode(payloads as Payload[]) : await codec.decode(payloads as Payload[]);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(
        JSON.stringify(
          protos().api.common.v1.Payloads.toObject(protos().api.common.v1.Payloads.create({ payloads: out }), { bytes: String }),
        ),
      );
    } catch (err) {
      if (err instanceof TooLarge) {
        // The rest of the body is read and dropped (never kept), so the client, still sending, gets the answer
        // instead of a reset connection; Node's request timeout bounds a sender that never stops.
        reply(413, `request body over ${MAX_CODEC_BODY_BYTES} bytes`);
        return void req.resume();
      }
      reply(400, (err as Error).message);
    }
  });
}
