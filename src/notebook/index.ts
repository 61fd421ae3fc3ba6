/** What every notebook uses beside the math: size tiers, printed checks, timing and text tables. */
export * from "./tier";
export * from "./checks";
export * from "./timing";
export * from "./table";
