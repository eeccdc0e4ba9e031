/**
 * The race panel: pick a task and two to four optimizers, train them side by side with live loss
 * curves (against steps and against each optimizer's own compute time) and step times; Stop and
 * Reset work at any time.
 */
import type { TopLevelSpec } from 'vega-lite';
import { OPTIMIZERS } from '../../src/train/optimizers.js';
import { appendData, type Chart, renderChart, setData } from './charts.js';
import { type RacePoint, Runner, raceTask } from './race-model.js';
import { byId, el, fmt, guard, nextFrame } from './ui.js';

const DEFAULT_PICK = ['sgd', 'adam', 'kfac', 'muon'];

function curveSpec(x: 'step' | 'wall_s', names: string[], logY: boolean): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: x === 'step' ? 'training loss against steps' : 'training loss against compute time',
    width: 360,
    height: 240,
    data: { name: 'points', values: [] },
    mark: { type: 'line', strokeWidth: 2, point: false },
    encoding: {
      x: {
        field: x,
        type: 'quantitative',
        title: x === 'step' ? 'step' : 'seconds (each optimizer’s own steps)',
        axis: { tickCount: 6 },
      },
      y: {
        field: 'loss',
        type: 'quantitative',
        title: 'training loss (batch)',
        scale: logY ? { type: 'log' } : { zero: false },
      },
      color: { field: 'optimizer', type: 'nominal', scale: { domain: names }, legend: { title: null } },
      strokeDash: { field: 'optimizer', type: 'nominal', scale: { domain: names }, legend: null },
    },
  } as TopLevelSpec;
}

function stepTimeSpec(names: string[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'time per step (median, ms)',
    width: 260,
    height: 180,
    data: { name: 'times', values: [] },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'optimizer', type: 'nominal', sort: names, title: null },
      x: { field: 'ms', type: 'quantitative', title: 'ms per step' },
      color: { field: 'optimizer', type: 'nominal', scale: { domain: names }, legend: null },
      tooltip: [{ field: 'optimizer' }, { field: 'ms', format: '.2f' }],
    },
  } as TopLevelSpec;
}

/** Sets up the panel. `device` is the jax-js device the page started. */
export function setupRace(device: string): void {
  const box = byId('race-error');
  const info = byId('race-info');
  const startButton = byId<HTMLButtonElement>('race-start');
  const stopButton = byId<HTMLButtonElement>('race-stop');
  const resetButton = byId<HTMLButtonElement>('race-reset');
  const taskSelect = byId<HTMLSelectElement>('race-task');
  const stepsInput = byId<HTMLInputElement>('race-steps');
  const tableBody = byId('race-table').querySelector('tbody')!;
  const pickers = byId('race-optimizers');
  for (const name of OPTIMIZERS) {
    const box = el('input', { type: 'checkbox', value: name, id: `race-opt-${name}` });
    box.checked = DEFAULT_PICK.includes(name);
    pickers.append(el('label', {}, box, ` ${name}`));
  }

  let runners: Runner[] = [];
  let charts: Chart[] = [];
  let running = false;
  let stopRequested = false;
  let mnistBytes: ArrayBuffer | undefined;
  const isolation = crossOriginIsolated
    ? 'cross-origin isolated (shared-memory Wasm)'
    : 'not cross-origin isolated';
  const say = (what: string) => {
    info.textContent = `device: ${device} (jax-js), ${isolation}. ${what}`;
  };
  say('Pick a task and 2–4 optimizers, then Start.');

  const chosen = () =>
    Array.from(pickers.querySelectorAll<HTMLInputElement>('input[type=checkbox]'))
      .filter((c) => c.checked)
      .map((c) => c.value);

  const table = () => {
    tableBody.replaceChildren(
      ...runners.map((r) =>
        el(
          'tr',
          {},
          el('td', {}, r.name),
          el('td', {}, fmt(r.lr)),
          el('td', {}, String(r.step)),
          el('td', {}, r.failed ?? fmt(r.lastLoss)),
          el('td', {}, `${fmt(r.medianStepMs(), 3)} ms`),
          el(
            'td',
            {},
            `${fmt(r.wallMs / 1000, 3)} s${r.testAccuracy !== null ? `, test accuracy ${(100 * r.testAccuracy).toFixed(1)}%` : ''}`,
          ),
        ),
      ),
    );
  };

  const clear = () => {
    for (const r of runners) r.dispose();
    runners = [];
    table();
  };

  const setRunning = (on: boolean) => {
    running = on;
    startButton.disabled = on;
    stopButton.disabled = !on;
    document.body.dataset.race = on ? 'running' : 'idle';
  };

  const start = () =>
    guard(box, async () => {
      if (running) return;
      const names = chosen();
      if (names.length < 2 || names.length > 4)
        throw new Error(`pick two to four optimizers (${names.length} picked)`);
      const steps = Number(stepsInput.value);
      if (!Number.isInteger(steps) || steps < 1 || steps > 5000)
        throw new Error(`steps must be an integer in 1..5000, got '${stepsInput.value}'`);
      clear();
      setRunning(true);
      stopRequested = false;
      try {
        say('loading the task…');
        if (taskSelect.value === 'mnist' && !mnistBytes) {
          const res = await fetch('./mnist-subset.bin');
          if (!res.ok) throw new Error(`cannot load mnist-subset.bin (HTTP ${res.status})`);
          mnistBytes = await res.arrayBuffer();
        }
        const task = raceTask(taskSelect.value, mnistBytes);
        runners = names.map((n) => new Runner(task, n));
        const logY = task.name === 'linreg-aniso';
        charts = [
          await renderChart(byId('race-steps-plot'), curveSpec('step', names, logY), charts[0]),
          await renderChart(byId('race-wall-plot'), curveSpec('wall_s', names, logY), charts[1]),
          await renderChart(byId('race-time-plot'), stepTimeSpec(names), charts[2]),
        ];
        say(`${task.description}; batch ${task.batch}; ${steps} steps each, in turn.`);
        const t0 = performance.now();
        let lastDraw = 0;
        let pending: RacePoint[] = [];
        for (let s = 0; s < steps && !stopRequested; s++) {
          for (const r of runners) {
            if (r.failed || stopRequested) continue;
            const p = await r.advance();
            if (p) pending.push(p);
          }
          if (runners.every((r) => r.failed)) break;
          const now = performance.now();
          if (now - lastDraw > 250 || s === steps - 1) {
            lastDraw = now;
            await appendData(charts[0], 'points', pending);
            await appendData(charts[1], 'points', pending);
            await setData(
              charts[2],
              'times',
              runners.map((r) => ({ optimizer: r.name, ms: r.medianStepMs() })),
            );
            pending = [];
            table();
          }
          await nextFrame();
        }
        if (pending.length > 0) {
          await appendData(charts[0], 'points', pending);
          await appendData(charts[1], 'points', pending);
        }
        if (task.classifier) for (const r of runners) if (!r.failed) await r.evaluate();
        table();
        const secs = ((performance.now() - t0) / 1000).toFixed(1);
        say(`${task.description}: ${stopRequested ? 'stopped' : 'done'} after ${secs} s.`);
      } finally {
        setRunning(false);
        document.body.dataset.raceDone = String(Number(document.body.dataset.raceDone ?? 0) + 1);
      }
    });

  startButton.addEventListener('click', () => void start());
  stopButton.addEventListener('click', () => {
    stopRequested = true;
  });
  resetButton.addEventListener('click', () =>
    guard(box, async () => {
      stopRequested = true;
      while (running) await nextFrame();
      clear();
      for (const c of charts) await setData(c, c === charts[2] ? 'times' : 'points', []);
      say('Reset. Pick a task and 2–4 optimizers, then Start.');
    }),
  );
  document.body.dataset.race = 'idle';
  // For the end-to-end test: the points each loss curve holds (against steps, against time), read
  // from the charts themselves.
  (window as unknown as { rieszLab?: object }).rieszLab = {
    curvePoints: (): Record<string, [number, number]> => {
      const counts: Record<string, [number, number]> = {};
      for (const r of runners) counts[r.name] = [0, 0];
      charts.slice(0, 2).forEach((chart, k) => {
        for (const p of chart.view.data('points') as RacePoint[]) {
          counts[p.optimizer] ??= [0, 0];
          counts[p.optimizer][k]++;
        }
      });
      return counts;
    },
  };
}
