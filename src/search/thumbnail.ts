/** Small JPEG thumbnails of indexed images, for the result page and the search server. */
import sharp from 'sharp';

/** Side of a thumbnail in pixels. */
export const THUMBNAIL_SIZE = 192;

/** A JPEG thumbnail of `file` (centre-cropped square), or null when the file cannot be read. */
export async function thumbnail(file: string): Promise<Buffer | null> {
  try {
    return await sharp(file).resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'cover' }).jpeg({ quality: 80 }).toBuffer();
  } catch {
    return null;
  }
}
