export * from "./adamw";
export * from "./schedule";
export * from "./checkpoint";
export * from "./model-checkpoint";
export * from "./loop";
export * from "./presets";
export * from "./run-info";
export * from "./run-records";
