/**
 * Queries as embeddings: a text cleaned, tokenized and POS-tagged as the evaluation does with
 * captions; an image decoded and resized by the authors' test transform.
 */
import { decodeImage } from '../data/decode';
import { testTransform } from '../data/transforms';
import { posaplError } from '../errors';
import { PosaplModel } from '../posapl/model';
import { ClipTokenizer } from '../text/clipTokenizer';
import { encodeCaptions, posWordsOf } from '../train/captionInputs';

/** The L2-normalised (embed_dim) embedding of a text query. */
export function encodeTextQuery(model: PosaplModel, tokenizer: ClipTokenizer, query: string): Float32Array {
  if (typeof query !== 'string' || query.trim() === '') throw posaplError('POSAPL_TYPE', `Expected a non-empty string for query but received ${JSON.stringify(query)}`);
  const { ids, posIds } = encodeCaptions(tokenizer, [query], [posWordsOf(query, undefined)], model.config.text_cfg.context_length);
  return model.encodeTexts(ids, model.config.posapl.pos ? posIds : null, 1);
}

/**
 * The L2-normalised (embed_dim) embedding of an image query: a file (decoded with sharp), or
 * normalised test-transform pixels (3, S, S).
 */
export async function encodeImageQuery(model: PosaplModel, image: string | Float32Array): Promise<Float32Array> {
  const size = model.config.vision_cfg.image_size;
  let pixels: Float32Array;
  if (typeof image === 'string') {
    pixels = testTransform(await decodeImage(image), size);
  } else if (image instanceof Float32Array && image.length === 3 * size * size) {
    pixels = image;
  } else {
    throw posaplError('POSAPL_TYPE', `Expected an image path or (3, ${size}, ${size}) float32 pixels for image but received ${image instanceof Float32Array ? `${image.length} values` : typeof image}`);
  }
  return model.encodeImages(pixels, 1);
}
