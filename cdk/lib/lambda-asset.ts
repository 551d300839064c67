/**
 * What the custody-lambda bootstrap zip is, read from the zip itself: the app refuses an asset
 * that is not a zip holding a `bootstrap` ELF executable, or one built for another architecture
 * than the functions are configured with (Lambda would accept the upload and then fail every
 * invocation with `Runtime.InvalidEntrypoint`: at 3 a.m., not at deploy time).
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import { LambdaArchitecture } from './config';

/** Why an asset is not a usable bootstrap zip. */
export class AssetError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'AssetError';
  }
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
/** ELF e_machine values. */
const MACHINES: Record<number, LambdaArchitecture> = { 0xb7: 'arm64', 0x3e: 'x86_64' };

/** The architecture of the `bootstrap` executable inside the zip at `file`. */
export function assetArchitecture(file: string): LambdaArchitecture {
  const elf = bootstrapHead(file);
  if (elf.length < 20 || elf.readUInt32BE(0) !== 0x7f454c46) {
    throw new AssetError(file, 'its bootstrap is not an ELF executable');
  }
  if (elf[4] !== 2 || elf[5] !== 1) throw new AssetError(file, 'its bootstrap is not a 64-bit little-endian ELF');
  const machine = elf.readUInt16LE(18);
  const arch = MACHINES[machine];
  if (arch === undefined) throw new AssetError(file, `its bootstrap is built for ELF machine 0x${machine.toString(16)}, not arm64 or x86_64`);
  return arch;
}

/** The first bytes of the `bootstrap` entry (the whole entry if it is compressed). */
function bootstrapHead(file: string): Buffer {
  const zip = fs.readFileSync(file);
  const fail = (reason: string) => new AssetError(file, reason);
  // The end-of-central-directory record is in the last 22 + 65535 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw fail('not a zip file (build it with scripts/build-lambda)');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw fail('its zip directory is corrupt');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localAt = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    if (name === 'bootstrap') {
      if (zip.readUInt32LE(localAt) !== LOCAL_SIGNATURE) throw fail('its zip entry for bootstrap is corrupt');
      const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
      const data = zip.subarray(dataAt, dataAt + compressedSize);
      if (method === 0) return data.subarray(0, 64);
      if (method === 8) return zlib.inflateRawSync(data).subarray(0, 64);
      throw fail(`its bootstrap is stored with zip method ${method}, not stored or deflated`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw fail('the zip has no bootstrap entry at its root (provided.al2023 runs ./bootstrap)');
}
