/**
 * Mamba, the hard way: scans from cumulative sums to the selective SSM, each a loop to read and
 * parallel versions to run, checked against each other (and, for the selective SSM, against the
 * fused kernel `selectiveScan`).
 */
export * from "./cumsum";
export * from "./linear-scan";
export * from "./scan-grad";
export * from "./ema";
export * from "./selective-ssm";
export * from "./selective-ssm-checkpointed";
