/**
 * Turning the authors' dataset files into what the trainer and the evaluation consume: every
 * image checked readable before any work, captions cleaned and tokenized once with their POS
 * words (from the file, else tagged here), image ids remapped in first-seen order, and evaluation
 * splits bound to the image pipeline.
 */
import * as fs from 'fs';
import * as path from 'path';
import { posaplError } from '../errors';
import { isTaggableScript } from '../text/taggableScript';
import { EvalImage, ImagePipeline, remapImageIds, TrainSample } from '../data';
import { evaluateRetrieval, RetrievalEvaluation } from '../eval';
import { PosaplModel } from '../posapl/model';
import { ClipTokenizer } from '../text/clipTokenizer';
import { cleanCaption } from '../text/cleanCaption';
import { encodeCaptions, posWordsOf } from '../train/captionInputs';
import { EvalSplit, Metrics, TrainData } from '../train/trainer';

/**
 * Checks that every image exists and is readable under `root` before anything heavy starts.
 * Unreadable ones throw POSAPL_IO naming them, or with `skipMissing` are returned (to be skipped
 * and counted).
 */
export function checkImagesReadable(root: string, images: Iterable<string>, skipMissing: boolean): string[] {
  const unreadable: string[] = [];
  for (const image of new Set(images)) {
    try {
      fs.accessSync(path.join(root, image), fs.constants.R_OK);
      if (!fs.statSync(path.join(root, image)).isFile()) unreadable.push(`${image} (not a file)`);
    } catch (error) {
      unreadable.push(`${image} (${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not readable'})`);
    }
  }
  if (unreadable.length && !skipMissing) {
    const shown = unreadable.slice(0, 5).join(', ') + (unreadable.length > 5 ? `, and ${unreadable.length - 5} more` : '');
    throw posaplError('POSAPL_IO', `--images ${root}: ${unreadable.length} image(s) cannot be read: ${shown}; fix them, or pass --skip-missing to skip and count them`);
  }
  return unreadable;
}

/** How many captions that the file gives no POS words for are in a script the English tagger cannot read. */
export function countUntaggable(captions: Iterable<{ caption: string; pos?: unknown }>): number {
  let n = 0;
  for (const c of captions) if (c.pos === undefined && !isTaggableScript(c.caption)) n++;
  return n;
}

/** Training pairs tokenized for the trainer. */
export function trainData(samples: TrainSample[], tokenizer: ClipTokenizer, context: number): TrainData {
  const pos = samples.map((s) => posWordsOf(s.caption, s.pos));
  const { ids, posIds } = encodeCaptions(tokenizer, samples.map((s) => s.caption), pos, context);
  return {
    images: samples.map((s) => s.image), imageIds: remapImageIds(samples), ids, posIds,
    hasPos: Uint8Array.from(pos, (p) => (p.length > 0 ? 1 : 0)), context,
  };
}

/** A held-out split: every caption of every image, scored with the authors' retrieval metrics. */
export class RetrievalSplit implements EvalSplit {
  readonly captions: string[];
  readonly textImage: Int32Array;
  private readonly ids: Int32Array;
  private readonly posIds: Int32Array;
  /** The latest evaluation (for the report's retrieval grids). */
  last: RetrievalEvaluation | null = null;
  /** Images that could not be read (embedded as blank) in any evaluation so far (--skip-missing). */
  readonly skipped = new Set<string>();

  constructor(
    readonly name: 'test' | 'val',
    readonly images: EvalImage[],
    private readonly pipeline: ImagePipeline,
    tokenizer: ClipTokenizer,
    context: number,
    private readonly onProgress?: (text: string) => void,
  ) {
    this.captions = images.flatMap((im) => im.captions.map((c) => cleanCaption(c)));
    this.textImage = Int32Array.from(images.flatMap((im, i) => im.captions.map(() => i)));
    const pos = images.flatMap((im) => im.captions.map((c, k) => posWordsOf(c, im.pos?.[k])));
    ({ ids: this.ids, posIds: this.posIds } = encodeCaptions(tokenizer, images.flatMap((im) => im.captions), pos, context));
  }

  async evaluate(model: PosaplModel): Promise<Metrics> {
    const paths = this.images.map((im) => im.image);
    this.last = await evaluateRetrieval({
      model,
      nImages: paths.length,
      loadPixels: async (indices) => {
        const { pixels, missing } = await this.pipeline.load(indices.map((i) => paths[i]), 'test', indices.map(() => 0));
        for (const k of missing) this.skipped.add(paths[indices[k]]);
        return pixels;
      },
      ids: this.ids,
      posIds: model.config.posapl.pos ? this.posIds : null,
      textImage: this.textImage,
      onProgress: this.onProgress ? (p) => this.onProgress?.(`evaluating ${this.name}: ${p.phase} ${p.done}/${p.total}`) : undefined,
    });
    return { ...this.last.metrics };
  }
}
