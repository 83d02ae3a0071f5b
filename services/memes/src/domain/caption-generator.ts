import { seededRandom } from '@mercato/platform';
/**
 * The premium tier's "AI" captions: a small language model built from the stored memes at start-up (nothing is
 * downloaded). It is a word-level Markov chain of order 1, one for the upper and one for the lower line of each base
 * meme, mixed step by step with a background chain over every caption in the base's script.
 *
 * Why order 1: most bases have a handful of captions (236 of the corpus's 802 have one). An order-2 chain over so few lines has a
 * single successor for almost every word pair, so it replays its sources and nearly every draw would be refused as a
 * copy; order 1 branches wherever captions share a word ("the", "no", "и"), and the background chain adds the rest.
 * Why a background per script: the chain's state is the previous word, so a Cyrillic base stays Cyrillic as long as the
 * words it can jump to are Cyrillic; a background over all captions would let "!" or "10" lead into English.
 *
 * A generated caption is never a stored one: captions are compared as their folded words (case-folded, accents removed
 * after NFD, punctuation dropped, upper and lower line run together, so a re-split or re-punctuated copy is caught too).
 * A refused draw is redrawn with less weight on the base's own chain; after a bounded number of draws the caption is
 * given up and `generate` returns fewer captions than asked (possibly none), never a copy.
 */

export interface CorpusCaption {
  baseName: string;
  /** Imported memes may lack a line (the source has `-`); null and '' both mean "no text". */
  upperText: string | null;
  lowerText: string | null;
}

export interface GeneratedCaption {
  baseName: string;
  upperText: string;
  lowerText: string;
  generated: true;
}

export interface CaptionGeneratorOptions {
  /** Seeds the stream `generate` draws from when it is given no seed of its own. */
  seed: number;
}

export interface CaptionGenerator {
  /**
   * Up to `count` (at most MAX_CAPTIONS_PER_CALL) distinct new captions for `baseName`; undefined when the corpus has
   * no such base (names match exactly). With a `seed` the result depends only on (seed, baseName), a smaller count
   * giving a prefix of a larger one; without one it comes from the generator's own seeded stream, so a sequence of
   * calls is reproducible but successive calls differ.
   */
  generate(baseName: string, count: number, seed?: number): GeneratedCaption[] | undefined;
  /**
   * Adds a caption stored after start-up (a meme created through the API) to the copy check, so it is never generated
   * either. Only the copy check learns it: the chains stay as built, so remembering costs a set entry.
   */
  remember(caption: CorpusCaption): void;
}

/** A bound on one call's CPU whatever the caller asks; the route's own limit should be lower. */
export const MAX_CAPTIONS_PER_CALL = 100;
/** Draws per caption before it is given up; the base's own weight falls linearly to zero over them. */
const DRAWS_PER_CAPTION = 16;
/** A longer line is refused as a draw: order 1 can loop, and a run-on is no caption (a few source lines are longer). */
const MAX_LINE_TOKENS = 20;
/**
 * The base's own chain gets n / (n + prior) of the steps, n its number of captions: a single caption leads two thirds
 * of them, five captions 90%. Tried on the corpus: with a prior of 2 a single-caption base's captions were mostly
 * background salad; with 0.5 they riff on the base's own phrase ("it's not about gay music video gangnam style views"),
 * and no base gave up on any of 10 captions.
 */
const OWN_WEIGHT_PRIOR = 0.5;
/** A script with fewer captions than this has no background of its own; its bases use the largest one. */
const MIN_BACKGROUND_CAPTIONS = 100;

interface Token {
  /** As written, lower-cased; the base's case style is applied when a line is rendered. */
  text: string;
  /** Case-folded and without accents: the chain's state and the unit of the copy check. */
  key: string;
  word: boolean;
  /** The script of a word's first letter (enough to tell a caption's script); undefined for punctuation. */
  script: Script | undefined;
}

/** The end of a line, as a chain's successor. */
const END = null;
/** The chain's state before a line's first token (no token's key is empty). */
const START = '';

/** word → every token seen after it, repeated as often as seen, so a uniform pick is a pick by frequency. */
type Chain = Map<string, Array<Token | typeof END>>;

interface LineChains {
  upper: Chain;
  lower: Chain;
}

type CaseStyle = 'upper' | 'sentence' | 'lower';
type Script = 'Latin' | 'Cyrillic' | 'other';

interface BaseModel {
  own: LineChains;
  background: LineChains;
  ownWeight: number;
  style: CaseStyle;
}

/**
 * Words are runs of letters and digits in any script (combining marks kept, so a decomposed accent stays in its word),
 * joined by inner apostrophes or hyphens ("you're", "БОЛЬШЕ-МЕНЬШЕ"); sentence punctuation is kept as its own token;
 * quotes, brackets, slashes and other symbols are dropped.
 */
const TOKEN = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:['’-][\p{L}\p{M}\p{N}]+)*|[.,!?¡¿…]+/gu;
const WORD_START = /^[\p{L}\p{N}]/u;
const CYRILLIC = /^\p{Script=Cyrillic}/u;
const LATIN = /^\p{Script=Latin}/u;

const ASCII = /^[\x00-\x7f]*$/;

function foldWord(lowerCased: string): string {
  return ASCII.test(lowerCased) ? lowerCased : lowerCased.normalize('NFD').replace(/\p{M}+/gu, '');
}

function newToken(text: string): Token {
  const word = WORD_START.test(text);
  const script = !word ? undefined : LATIN.test(text) ? 'Latin' : CYRILLIC.test(text) ? 'Cyrillic' : 'other';
  return { text, key: foldWord(text), word, script };
}

/** One token object per distinct spelling, so the chains hold shared references and each spelling is folded once. */
function tokenizer(): (line: string | null) => Token[] {
  const known = new Map<string, Token>();
  return (line) => {
    if (!line) return [];
    const tokens: Token[] = [];
    const lowerCased = line.normalize('NFC').toLowerCase();
    TOKEN.lastIndex = 0;
    for (let match = TOKEN.exec(lowerCased); match; match = TOKEN.exec(lowerCased)) {
      const text = match[0];
      let token = known.get(text);
      if (!token) known.set(text, (token = newToken(text)));
      tokens.push(token);
    }
    return tokens;
  };
}

/** The form two captions are compared in: their words, folded, upper line then lower line. */
function captionKey(upper: readonly Token[], lower: readonly Token[]): string {
  let key = '';
  for (const line of [upper, lower]) {
    for (const token of line) if (token.word) key = key ? `${key} ${token.key}` : token.key;
  }
  return key;
}

function learn(chain: Chain, tokens: readonly Token[]): void {
  let state = START;
  for (let i = 0; i <= tokens.length; i++) {
    const next = tokens[i] ?? END;
    const successors = chain.get(state);
    if (successors) successors.push(next);
    else chain.set(state, [next]);
    if (next) state = next.key;
  }
}

const newLineChains = (): LineChains => ({ upper: new Map(), lower: new Map() });

/** The script most of a caption's words are written in. */
function scriptOf(upper: readonly Token[], lower: readonly Token[]): Script {
  let latin = 0;
  let cyrillic = 0;
  for (const line of [upper, lower]) {
    for (const { script } of line) {
      if (script === 'Latin') latin += 1;
      else if (script === 'Cyrillic') cyrillic += 1;
    }
  }
  if (latin === 0 && cyrillic === 0) return 'other';
  return cyrillic > latin ? 'Cyrillic' : 'Latin';
}

function caseStyleOf(line: string): CaseStyle | undefined {
  const firstLetter = line.match(/\p{L}/u)?.[0];
  if (firstLetter === undefined || firstLetter.toLowerCase() === firstLetter.toUpperCase()) return undefined;
  if (line === line.toUpperCase()) return 'upper';
  return firstLetter === firstLetter.toUpperCase() ? 'sentence' : 'lower';
}

/** The style most of a base's lines are written in, so an ALL-CAPS meme gets ALL-CAPS captions. */
function dominantStyle(lines: readonly string[]): CaseStyle {
  const counts: Record<CaseStyle, number> = { upper: 0, sentence: 0, lower: 0 };
  for (const line of lines) {
    const style = caseStyleOf(line);
    if (style) counts[style] += 1;
  }
  return (['upper', 'sentence', 'lower'] as const).reduce((best, style) => (counts[style] > counts[best] ? style : best));
}


/** FNV-1a over the base's name, so one seed gives each base its own stream. */
function streamSeed(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

function pick<T>(random: () => number, items: readonly T[]): T | undefined {
  return items[Math.floor(random() * items.length)];
}

/** A line, or undefined when the chain ran on past MAX_LINE_TOKENS (a loop such as "que sobra decir que sobra…"). */
function drawLine(random: () => number, own: Chain, background: Chain, ownWeight: number): Token[] | undefined {
  const tokens: Token[] = [];
  let state = START;
  for (;;) {
    const preferred = random() < ownWeight ? own : background;
    const other = preferred === own ? background : own;
    // A token drawn from one chain may be unknown to the other (a background word the base never used, or a base
    // caption in another script than its background); every learned token has a successor in the chain it came from.
    const next = pick(random, preferred.get(state) ?? other.get(state) ?? [END]) ?? END;
    if (!next) return tokens;
    if (tokens.length === MAX_LINE_TOKENS) return undefined;
    tokens.push(next);
    state = next.key;
  }
}

const opensPhrase = (token: Token) => token.text.startsWith('¡') || token.text.startsWith('¿');

function renderLine(tokens: readonly Token[], style: CaseStyle): string {
  let line = '';
  tokens.forEach((token, i) => {
    const previous = tokens[i - 1];
    const glued = !previous || opensPhrase(previous) || (!token.word && !opensPhrase(token));
    line += (glued ? '' : ' ') + token.text;
  });
  if (style === 'upper') return line.toUpperCase();
  if (style === 'sentence') return line.replace(/\p{L}/u, (letter) => letter.toUpperCase());
  return line;
}

export function createCaptionGenerator(corpus: readonly CorpusCaption[], options: CaptionGeneratorOptions): CaptionGenerator {
  const storedCaptions = new Set<string>();
  const captionsByBase = new Map<string, Array<{ upper: Token[]; lower: Token[]; script: Script; lines: string[] }>>();
  const backgrounds = new Map<Script, { chains: LineChains; captions: number }>();

  const tokenize = tokenizer();
  for (const caption of corpus) {
    const upper = tokenize(caption.upperText);
    const lower = tokenize(caption.lowerText);
    let ofBase = captionsByBase.get(caption.baseName);
    // A base whose memes have no text is still a known base: it gets captions from its background alone.
    if (!ofBase) captionsByBase.set(caption.baseName, (ofBase = []));
    if (upper.length === 0 && lower.length === 0) continue;
    const lines = [caption.upperText ?? '', caption.lowerText ?? ''];
    const script = scriptOf(upper, lower);
    storedCaptions.add(captionKey(upper, lower));
    ofBase.push({ upper, lower, script, lines });

    let background = backgrounds.get(script);
    if (!background) backgrounds.set(script, (background = { chains: newLineChains(), captions: 0 }));
    background.captions += 1;
    learn(background.chains.upper, upper);
    learn(background.chains.lower, lower);
  }

  const bases = new Map<string, BaseModel>();
  const largest = [...backgrounds.values()].reduce((best, next) => (next.captions > best.captions ? next : best), {
    chains: newLineChains(),
    captions: 0,
  });
  for (const [baseName, captions] of captionsByBase) {
    const own = newLineChains();
    const scriptCounts = new Map<Script, number>();
    for (const { upper, lower, script } of captions) {
      learn(own.upper, upper);
      learn(own.lower, lower);
      scriptCounts.set(script, (scriptCounts.get(script) ?? 0) + 1);
    }
    const script = [...scriptCounts].reduce((best, entry) => (entry[1] > best[1] ? entry : best), ['other', 0])[0];
    const ofScript = backgrounds.get(script);
    bases.set(baseName, {
      own,
      background: ofScript && ofScript.captions >= MIN_BACKGROUND_CAPTIONS ? ofScript.chains : largest.chains,
      ownWeight: captions.length / (captions.length + OWN_WEIGHT_PRIOR),
      style: dominantStyle(captions.flatMap((caption) => caption.lines)),
    });
  }

  const sharedStream = seededRandom(options.seed);

  return {
    generate(baseName, count, seed) {
      const base = bases.get(baseName);
      if (!base) return undefined;
      const random = seed === undefined ? sharedStream : seededRandom(streamSeed(baseName, seed));
      const made: GeneratedCaption[] = [];
      const madeKeys = new Set<string>();
      const wanted = Math.min(MAX_CAPTIONS_PER_CALL, Math.max(0, Math.floor(count)));

      while (made.length < wanted) {
        let found = false;
        for (let draw = 0; draw < DRAWS_PER_CAPTION && !found; draw++) {
          const ownWeight = base.ownWeight * (1 - draw / DRAWS_PER_CAPTION);
          const upper = drawLine(random, base.own.upper, base.background.upper, ownWeight);
          const lower = drawLine(random, base.own.lower, base.background.lower, ownWeight);
          if (!upper || !lower) continue;
          const key = captionKey(upper, lower);
          if (!key || storedCaptions.has(key) || madeKeys.has(key)) continue;
          madeKeys.add(key);
          made.push({ baseName, upperText: renderLine(upper, base.style), lowerText: renderLine(lower, base.style), generated: true });
          found = true;
        }
        // The last draws lean almost wholly on the background, so a caption that still failed means the base (with
        // its background) has too little text to say something new; more draws would only burn the request's CPU.
        if (!found) break;
      }
      return made;
    },

    remember(caption) {
      storedCaptions.add(captionKey(tokenize(caption.upperText), tokenize(caption.lowerText)));
    },
  };
}
