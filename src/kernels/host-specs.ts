/**
 * Every host kernel written as phases of units (host-kernel.ts), by name: what a worker thread
 * can run. None of these modules imports TensorFlow.js.
 */
import { HostKernelSpec } from "./host-kernel";
import { CAUCHY_GRAD_HOST, CAUCHY_HOST } from "./cauchy/host";
import { IRDFT_GRAD_HOST, IRDFT_HOST } from "./inverse-dft/host";

export const HOST_KERNEL_SPECS: HostKernelSpec[] = [CAUCHY_HOST, CAUCHY_GRAD_HOST, IRDFT_HOST, IRDFT_GRAD_HOST];
