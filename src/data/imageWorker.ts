/**
 * The body of an ImagePipeline worker thread: decodes one image per message with sharp, runs the
 * train or test transform on the native kernels, and sends the (3,S,S) float32 pixels back,
 * transferring their buffer. Errors go back as { code, message } so the pipeline can name the
 * file or count it as missing.
 */
import { parentPort } from 'worker_threads';
import { decodeImage } from './decode';
import { testTransform, trainTransform } from './transforms';

/** What the pipeline asks of a worker. */
export interface ImageTask {
  id: number;
  file: string;
  mode: 'train' | 'test';
  seed: number;
  size: number;
}

/** What a worker answers: pixels, or an error. */
export type ImageResult =
  | { id: number; pixels: Float32Array }
  | { id: number; error: { code: string; message: string } };

async function run(task: ImageTask): Promise<ImageResult> {
  try {
    const image = await decodeImage(task.file);
    const pixels = task.mode === 'train'
      ? trainTransform(image, task.size, task.seed)
      : testTransform(image, task.size);
    return { id: task.id, pixels };
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
      if ('pixels' in result) port.postMessage(result, [result.pixels.buffer as ArrayBuffer]);
      else port.postMessage(result);
    });
  });
}
