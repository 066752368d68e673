import crypto from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { protos } from './util/lazy';
import { UserError } from './errors';

const ENCODING = 'binary/encrypted';

/** A payload this process cannot decrypt: no TJU_CODEC_KEYS, or not the key that encrypted it. */
export class CodecKeyError extends UserError {
  override name = 'CodecKeyError';
}

/** Whether an error says a payload could not be read for want of the right key (ours, or the SDK's own). */
export const isUnreadablePayload = (err: unknown): boolean => {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof CodecKeyError || /Unknown encoding: binary\/encrypted/.test(e.message)) return true;
  }
  return false;
};
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encrypts every payload Temporal stores (workflow inputs, results, activity arguments: a target's options)
 * with AES-256-GCM. The first key encrypts; every key decrypts, by the ID written beside each payload, so a
 * new key can be put first while histories written under the old one still read.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly current: string;

  constructor(keys: Array<{ id: string; key: Buffer }>) {
    if (keys.length === 0) throw new Error('an encryption codec needs at least one key');
    for (const { id, key } of keys) if (key.length !== 32) throw new Error(`key ${id} is ${key.length} bytes, not 32`);
    this.keys = new Map(keys.map(({ id, key }) => [id, key]));
    this.current = keys[0].id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.current)!;
    return payloads.map((payload) => {
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      const plain = protos().api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: encoder.encode(ENCODING), [KEY_ID]: encoder.encode(this.current) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!payload.metadata?.encoding || decoder.decode(payload.metadata.encoding) !== ENCODING) return payload;
      const id = payload.metadata[KEY_ID] ? decoder.decode(payload.metadata[KEY_ID]) : '';
      const key = this.keys.get(id);
      if (!key) throw new CodecKeyError(`a payload is encrypted with key "${id}", which TJU_CODEC_KEYS does not hold`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch (err) {
        throw new CodecKeyError(`a payload encrypted with key "${id}" does not decrypt with the key TJU_CODEC_KEYS gives that ID`, {
          cause: err,
        });
      }
      return protos().api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/**
 * `TJU_CODEC_KEYS`: comma-separated `id:key` pairs, each key 32 bytes in base64 (`openssl rand -base64 32`),
 * the encrypting one first. A malformed value is a one-line UserError.
 */
export function codecFromEnv(value: string | undefined): EncryptionCodec | undefined {
  if (!value) return undefined;
  const keys = value.split(',').map((entry) => {
    const [id, encoded, ...rest] = entry.trim().split(':');
    const key = Buffer.from(encoded ?? '', 'base64');
    if (!id || !/^[\w.-]+$/.test(id) || rest.length || key.length !== 32) {
      throw new UserError('TJU_CODEC_KEYS: expected id:key pairs, comma-separated, each key 32 bytes in base64');
    }
    return { id, key };
  });
  return new EncryptionCodec(keys);
}

/** What to tell a person whose process cannot read a run's payloads. */
export function unreadableNote(err: unknown): string {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof CodecKeyError) return `${e.message}: set TJU_CODEC_KEYS to the keys its workers use`;
  }
  return "the run's payloads are encrypted: set TJU_CODEC_KEYS to the keys its workers use";
}
