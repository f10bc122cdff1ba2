/** Which files an index takes: image files found under a folder, or listed one per line. */
import * as fs from 'fs';
import * as path from 'path';
import { posaplError } from '../errors';

/** Extensions of the formats sharp (libvips) decodes here. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp', '.gif', '.avif', '.heic']);

/** Image files under `dir` (recursively, sorted, hidden entries skipped), as `dir` joined with their relative path. */
export function listImageFolder(dir: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw posaplError('POSAPL_IO', `${dir}: no such folder`);
  }
  if (!stat.isDirectory()) throw posaplError('POSAPL_IO', `${dir}: not a folder`);
  const out: string[] = [];
  const walk = (folder: string) => {
    const entries = fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(folder, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) out.push(full);
    }
  };
  walk(dir);
  return out;
}

/** The paths of a list file: one per line, blank lines and lines starting with # ignored, relative ones taken from the list's folder. */
export function readImageList(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw posaplError('POSAPL_IO', `${file}: cannot read the image list: ${(e as Error).message}`);
  }
  const base = path.dirname(file);
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => (path.isAbsolute(l) ? l : path.join(base, l)));
}
