/**
 * Image decoding with sharp (libvips) into 8-bit RGB, as the authors' Image.open(p).convert('RGB'):
 * TIFF (RSITMD), JPEG (RSICD), PNG and whatever else libvips reads; grey is replicated to three
 * channels, alpha is dropped (not composited, as PIL's RGBA -> RGB), palettes are expanded,
 * 16-bit samples keep their high byte (PIL does so for 16-bit RGB; for 16-bit grey PIL clips
 * values above 255 instead, which no dataset here relies on), the first page of a multi-page
 * file is used, and, as in PIL, embedded ICC profiles and EXIF orientation are not applied.
 */
import sharp from 'sharp';
import { posaplError } from '../errors';
import { RgbImage } from './transforms';

/** Decodes `file` to (height, width, 3) bytes; a missing or unreadable file throws POSAPL_IMAGE naming it. */
export async function decodeImage(file: string): Promise<RgbImage> {
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await sharp(file)
      .keepIccProfile()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (cause) {
    const message = (cause as Error).message.split('\n')[0];
    const reason = message.startsWith('Input file is missing') ? 'no such file' : message;
    throw posaplError('POSAPL_IMAGE', `posapl: cannot read image ${file}: ${reason}`, cause);
  }
  const { data, info } = decoded;
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw posaplError('POSAPL_IMAGE',
      `posapl: cannot read image ${file}: decoded to ${info.channels} channels of ${info.width}x${info.height}`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width };
}
