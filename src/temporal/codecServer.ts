import http from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { protos } from '../util/lazy';

export interface CodecServerOptions {
  /** The Web UI's origin, allowed to call from the browser (CORS). */
  allowOrigin?: string;
}

/**
 * Temporal's remote codec protocol: POST /encode and /decode with `{ payloads: [...] }` in proto JSON. The Web
 * UI (its "Codec Server" setting) and `temporal --codec-endpoint` call it to show what the codec encrypted.
 * It decrypts for whoever can reach it: bind it where only operators can.
 */
export function createCodecServer(codec: PayloadCodec, { allowOrigin }: CodecServerOptions = {}): http.Server {
  return http.createServer(async (req, res) => {
    if (allowOrigin) {
      res.setHeader('Access-Control-Allow-Origin', allowOrigin);
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'content-type, x-namespace, authorization');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const path = new URL(req.url ?? '/', 'http://codec').pathname.replace(/\/$/, '');
    if (req.method !== 'POST' || (path !== '/encode' && path !== '/decode')) {
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('POST /encode or /decode\n');
    }
    try {
      let body = '';
      for await (const chunk of req) body += chunk;
      const { payloads } = protos().api.common.v1.Payloads.fromObject(JSON.parse(body));
      const out = path === '/encode' ? await codec.encode(payloads as Payload[]) : await codec.decode(payloads as Payload[]);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          protos().api.common.v1.Payloads.toObject(protos().api.common.v1.Payloads.create({ payloads: out }), { bytes: String }),
        ),
      );
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
    }
  });
}
