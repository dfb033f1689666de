/** Tensors, shapes and the buffer pool (no autodiff here; see ../autodiff). */
export { Tensor, parameter, type TensorKind } from "./tensor.js";
export { BufferPool, sizeClass, type PoolStats } from "./pool.js";
export {
  type Shape,
  numel,
  formatShape,
  sameShape,
  broadcastShapes,
  broadcastStrides,
  rowsCols,
  checkShape,
} from "./shape.js";
