/**
 * The train command's progress display: an in-place bar on a terminal, plain lines elsewhere.
 */
import { SingleBar } from "cli-progress";
import type { EpochRecord } from "../train/run-folder";
import type { StepInfo } from "../train/train-epoch";

/** Where progress goes: process.stdout, or any stream that says whether it is a terminal. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): boolean;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`;
}

/**
 * A progress display: cli-progress's in-place bar on a terminal (it redraws at most 10 times a
 * second and clips the line to the terminal's width), plain lines otherwise (CI, notebooks, a
 * file): the first and last step of each epoch and one every 10 s between. Each epoch ends with
 * its summary line either way.
 */
export function makeProgress(out: ProgressStream) {
  const tty = Boolean(out.isTTY);
  let epochStart = Date.now();
  let lastPrint = 0;
  let lossSum = 0;
  let accSum = 0;
  let count = 0;
  let bar: SingleBar | null = null;
  const stopBar = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    start(): void {
      epochStart = Date.now();
    },
    onStep(i: StepInfo): void {
      if (i.stepInEpoch === 1) lossSum = accSum = count = 0;
      lossSum += i.loss;
      accSum += i.accuracy;
      count++;
      const elapsed = (Date.now() - epochStart) / 1000;
      const rate = i.stepInEpoch / Math.max(elapsed, 1e-9);
      const eta = (i.stepsPerEpoch - i.stepInEpoch) / rate;
      const now = Date.now();
      const text =
        `epoch ${i.epoch + 1} ${i.stepInEpoch}/${i.stepsPerEpoch} loss ${(lossSum / count).toFixed(4)} ` +
        `acc ${(accSum / count).toFixed(3)} ${rate.toFixed(2)} steps/s ETA ${fmtTime(eta)}`;
      if (tty) {
        if (!bar) {
          // Nothing that changes the terminal's modes (hidden cursor, no line wrap) and no signal
          // handlers: Ctrl-C must stop training at once and leave the terminal as it was.
          bar = new SingleBar({
            format: "[{bar}] {text}",
            barsize: 20,
            barCompleteChar: "#",
            barIncompleteChar: ".",
            linewrap: true,
            hideCursor: false,
            gracefulExit: false,
            stream: out as NodeJS.WriteStream,
          });
          bar.start(i.stepsPerEpoch, 0, { text });
        }
        bar.update(i.stepInEpoch, { text });
      } else if (now - lastPrint >= 10000 || i.stepInEpoch === i.stepsPerEpoch || i.stepInEpoch === 1) {
        lastPrint = now;
        out.write(text + "\n");
      }
    },
    onEpoch(r: EpochRecord): void {
      epochStart = Date.now();
      stopBar();
      const val =
        r.val_bits_per_dim !== undefined
          ? `val nll ${r.val_loss.toFixed(4)} bits/dim ${r.val_bits_per_dim.toFixed(4)} acc ${r.val_accuracy.toFixed(4)}`
          : `val loss ${r.val_loss.toFixed(4)} acc ${r.val_accuracy.toFixed(4)}`;
      out.write(
        `epoch ${r.epoch} done: step ${r.step} train loss ${r.train_loss.toFixed(4)} acc ${r.train_accuracy.toFixed(4)} | ` +
          `${val} | lr ${r.lr.toExponential(2)} | ${r.wall_s.toFixed(1)}s\n`,
      );
    },
    /** Ends an unfinished bar's line (training stopped by the time limit or an error). */
    stop: stopBar,
  };
}
