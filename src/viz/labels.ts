/**
 * Default texts that figure builders put on axes and controls, in English and Chinese, so that a
 * notebook in either language gets labels in its own language without spelling each one out.
 */

export type Lang = "en" | "zh";
export const LANGS: readonly Lang[] = ["en", "zh"];

const TEXTS = {
  en: {
    index: "index",
    value: "value",
    step: "step",
    row: "row",
    column: "column",
    real: "Re",
    imag: "Im",
    unitCircle: "unit circle",
    play: "Play",
    pause: "Pause",
    frame: "frame: ",
    category: "category",
  },
  zh: {
    index: "序号",
    value: "数值",
    step: "步数",
    row: "行",
    column: "列",
    real: "实部",
    imag: "虚部",
    unitCircle: "单位圆",
    play: "播放",
    pause: "暂停",
    frame: "帧：",
    category: "类别",
  },
} as const satisfies Record<Lang, Record<string, string>>;

export type TextKey = keyof (typeof TEXTS)["en"];

/** The default text `key` in language `lang`. */
export function text(lang: Lang, key: TextKey): string {
  return TEXTS[lang][key];
}
