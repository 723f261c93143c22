// A configuration package as the CRM exports it: a gzip-compressed tar
// archive holding manifest.json ({slug, version, platformVersion}).
import { gzipSync } from "node:zlib";

function tarEntry(name, body) {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, "utf8");
  header.write("0000644\0", 100, 8);
  header.write("0000000\0", 108, 8);
  header.write("0000000\0", 116, 8);
  header.write(body.length.toString(8).padStart(11, "0") + "\0", 124, 12);
  header.write("15000000000\0", 136, 12);
  header.fill(" ", 148, 156); // the checksum counts itself as spaces
  header.write("0", 156, 1);
  header.write("ustar\0" + "00", 257, 8);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding]);
}

export function packageArchive(manifest, files = { "tables/deals.json": '{"table": "deals"}' }) {
  const entries = [tarEntry("manifest.json", Buffer.from(JSON.stringify(manifest)))];
  for (const [name, body] of Object.entries(files)) entries.push(tarEntry(name, Buffer.from(body)));
  return gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));
}
