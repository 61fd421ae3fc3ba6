export * from "./module";
export * from "./s4-layer";
export * from "./s4d-layer";
export * from "./ssm-layer";
export * from "./blocks";
export * from "./linear";
