/** Evaluation: the authors' retrieval metrics, embedding a split, and report.html. */
export * from './metrics';
export * from './evaluate';
export * from './report';
export { pythonFloatRepr, pythonRound } from './python';
