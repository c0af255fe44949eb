export { DatasetFormatError } from './dataset-format.error.js';
export {
  computeStats,
  DEFAULT_LIMITS,
  type ClassIndices,
  type DatasetStats,
  type DatasetValues,
  type ParsedDataset,
  type ParseLimits,
} from './dataset.js';
export { parseIdx, type IdxInput } from './idx.parser.js';
export { parseCsv, type CsvInput } from './csv.parser.js';
export { parseNpy, type NpyInput } from './npy.parser.js';
export { parseImageZip, MAX_IMAGE_SIDE, type ImageZipInput } from './image-zip.parser.js';
