/**
 * The demo's retrieval index: after training, posapl-demo/index holds every demo image embedded
 * by the trained model, so that `posapl-search posapl-demo/index "a river beside a road"` works.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Precision } from '../nn/linear';
import { isIndex, readIndex } from '../search/indexStore';
import { loadRetrievalModel, modelIdentity } from '../search/modelRecord';
import { AddReport, RetrievalIndex } from '../search/retrievalIndex';

/** The demo model's files, as posapl-train writes them into its folder. */
export interface DemoModelFiles {
  /** config.json */
  config: string;
  /** The seeded random backbone, saved. */
  weights: string;
  /** The best epoch's adapters. */
  checkpoint: string;
}

/**
 * Builds (or brings up to date) `dir` from the images under `images`, embedded by the demo model
 * with its trained checkpoint. An index the demo built with an earlier checkpoint is replaced: the
 * demo owns its folder and rewrites all of it on every run.
 */
export async function buildDemoIndex(dir: string, images: string, files: DemoModelFiles, precision: Precision): Promise<AddReport & { size: number }> {
  const config = JSON.parse(fs.readFileSync(files.config, 'utf8'));
  const model = await loadRetrievalModel({ config, weights: files.weights, checkpoint: files.checkpoint, tokenizer: 'byte-level', precision });
  try {
    if (isIndex(dir) && modelIdentity((await readIndex(dir)).model) !== modelIdentity(model.record)) fs.rmSync(dir, { recursive: true, force: true });
    const index = isIndex(dir) ? await RetrievalIndex.open(dir, { model }) : await RetrievalIndex.create(dir, model);
    // Results show paths as given: relative to the working folder reads best (posapl-demo/data/...).
    const relative = path.relative(process.cwd(), images);
    const report = await index.add(relative && !relative.startsWith('..') ? relative : images);
    return { ...report, size: index.size };
  } finally {
    model.model.dispose();
  }
}
