/**
 * @deprecated `stack.json` lives in `local/state.ts`, the public surface of the local state;
 * this module re-exports it only until `bin/` and `bench/` have switched (then delete it).
 */
export {
  readStackFile,
  removeStackFile,
  type StackFile,
  stackFilePath,
  toStackFile,
  writeStackFile,
} from "./state";
