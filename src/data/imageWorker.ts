/**
 * The body of an ImagePipeline worker thread: decodes one image per message with sharp (or takes
 * the decoded bytes the pipeline kept from an earlier epoch), runs the train or test transform on
 * the native kernels, and sends the (3,S,S) float32 pixels back, transferring their buffer, with
 * the decoded bytes when the pipeline asked to keep them. Errors go back as { code, message } so
 * the pipeline can name the file or count it as missing.
 */
import { parentPort } from 'worker_threads';
import { decodeImage } from './decode';
import { RgbImage, testTransform, trainTransform } from './transforms';

/** What the pipeline asks of a worker. */
export interface ImageTask {
  id: number;
  file: string;
  mode: 'train' | 'test';
  seed: number;
  size: number;
  /** The image already decoded (the pipeline's cache): no decoding. */
  decoded?: RgbImage;
  /** Send the decoded bytes back for the pipeline to keep. */
  keepDecoded?: boolean;
}

/** What a worker answers: pixels, or an error. */
export type ImageResult =
  | { id: number; pixels: Float32Array; decoded?: RgbImage }
  | { id: number; error: { code: string; message: string } };

async function run(task: ImageTask): Promise<ImageResult> {
  try {
    const image = task.decoded ?? (await decodeImage(task.file));
    const pixels = task.mode === 'train'
      ? trainTransform(image, task.size, task.seed)
      : testTransform(image, task.size);
    // A copy in a buffer of its own (sharp's output may share one), transferred with the pixels.
    const decoded = task.keepDecoded && !task.decoded ? { ...image, data: image.data.slice() } : undefined;
    return { id: task.id, pixels, decoded };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return {
      id: task.id,
      error: { code: typeof code === 'string' ? code : 'POSAPL_INTERNAL', message: (e as Error).message },
    };
  }
}

const port = parentPort;
if (port) {
  port.on('message', (task: ImageTask) => {
    void run(task).then((result) => {
      if ('pixels' in result) {
        const transfer = [result.pixels.buffer as ArrayBuffer];
        if (result.decoded) transfer.push(result.decoded.data.buffer as ArrayBuffer);
        port.postMessage(result, transfer);
      }
      else port.postMessage(result);
    });
  });
}
