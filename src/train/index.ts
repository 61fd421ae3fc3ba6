/**
 * Training: `fit` runs a whole MNIST training (seeded batches, AdamW with a one-cycle cosine rate,
 * validation every epoch, checkpoints, one test evaluation on `best`, a run record), and its parts
 * are here for a loop of one's own. Checkpoints are safetensors files any PyTorch user can open.
 */
export { fit, type TrainHooks } from "./loop";
export type { TrainOptions } from "./train-options";
export type { StepInfo } from "./train-epoch";
export type { EpochRecord } from "./run-folder";
export type { TrainSummary } from "./train-summary";
export { trainStep, lossAndAccuracy } from "./step";
export { evaluate } from "./evaluate";
export { softmaxCrossEntropy } from "./cross-entropy";
export { AdamW, s4ParamGroups, type AdamWOptions, type AdamWState, type ParamGroup } from "./adamw";
export { paramGroupsFor } from "./run-state";
export { oneCycleCosine, constantLr, type LrSchedule, type OneCycleOptions } from "./schedule";
export {
  saveCheckpoint,
  loadCheckpoint,
  readCheckpointManifest,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type Checkpoint,
  type CheckpointDtype,
  type CheckpointManifest,
  type CheckpointTensorEntry,
  type LoadedCheckpoint,
} from "./checkpoint";
export { encodeSafetensors, decodeSafetensors, type SafetensorsDtype, type SafetensorsEntry, type SafetensorsFile } from "./safetensors";
export { saveModelCheckpoint, loadModelCheckpoint, type ModelCheckpointConfig, type SavedModel } from "./model-checkpoint";
export { stateDictName, type StoredParam } from "./state-dict-names";
export { tierPreset, shippedCheckpoint, describePreset, type TierPreset } from "./presets";
export { configNames, loadConfig, type ConfigOptions, type LoadedConfig } from "./configs";
export { runInfo, deviceDescription, type RunInfo } from "./run-info";
export { readRunRecord, readRunRecords, type RunRecord } from "./run-records";
