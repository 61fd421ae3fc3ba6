/**
 * Every host kernel written as phases of units (host-kernel.ts), by name: what a worker thread
 * can run. None of these modules imports TensorFlow.js.
 */
import { HostKernelSpec } from "./host-kernel";
import { CAUCHY_GRAD_HOST, CAUCHY_HOST } from "./cauchy/host";
import { IRDFT_GRAD_HOST, IRDFT_HOST } from "./inverse-dft/host";
import { CAUSAL_CONV_GRAD_HOST, CAUSAL_CONV_HOST } from "./causal-conv/host";
import { SCAN_GRAD_HOST, SCAN_HOST } from "./selective-scan/host";
import { DEPTHWISE_CONV1D_GRAD_HOST, DEPTHWISE_CONV1D_HOST } from "./depthwise-conv1d/host";
import { GELU_GRAD_HOST, GELU_HOST } from "./gelu/host";
import { GLU_GRAD_HOST, GLU_HOST } from "./glu/host";
import { DROPOUT_HOST } from "./dropout/host";
import { LAYER_NORM_GRAD_HOST, LAYER_NORM_HOST } from "./layer-norm/host";
import { ADAMW_HOST, ADAMW_SCALED_HOST } from "./adamw-update/host";
import { SUM_OF_SQUARES_HOST } from "./sum-of-squares/host";
import { WEIGHTS_GRAD_HOST, WEIGHTS_HOST, WOODBURY_GRAD_HOST, WOODBURY_HOST } from "./dplr-spectrum/host";

export const HOST_KERNEL_SPECS: HostKernelSpec[] = [
  CAUCHY_HOST,
  CAUCHY_GRAD_HOST,
  IRDFT_HOST,
  IRDFT_GRAD_HOST,
  SCAN_HOST,
  SCAN_GRAD_HOST,
  DEPTHWISE_CONV1D_HOST,
  DEPTHWISE_CONV1D_GRAD_HOST,
  CAUSAL_CONV_HOST,
  CAUSAL_CONV_GRAD_HOST,
  GELU_HOST,
  GELU_GRAD_HOST,
  GLU_HOST,
  GLU_GRAD_HOST,
  DROPOUT_HOST,
  LAYER_NORM_HOST,
  LAYER_NORM_GRAD_HOST,
  ADAMW_HOST,
  ADAMW_SCALED_HOST,
  SUM_OF_SQUARES_HOST,
  WEIGHTS_HOST,
  WEIGHTS_GRAD_HOST,
  WOODBURY_HOST,
  WOODBURY_GRAD_HOST,
];
