// One unit of generation: the steps that turn a unit's inputs into one candidate sample and judge it, as the LAB
// method describes them per pipeline.
//   freeform skill   question from the seeds → question judged (keep 1) → answer → pair judged (keep 2 and up)
//   grounded skill   context from the seeds → question about it → judged → answer from the context → pair judged
//   knowledge        question and answer from a document chunk, following a seed example → faithful to the chunk?
//                    → relevant to the question (keep 2)
// A unit ends with a sample or with the reason it was dropped; an answer that does not parse drops the unit
// ("teacher returned invalid JSON"), and so does a prompt the teacher's context cannot hold, once a knowledge unit has
// cut its chunk as far as is useful. Any other teacher error (a dead endpoint, a refused key) is not the unit's
// fault: it propagates, and the job stops with the unit unfinished so a resume does it again.
import { sampleId } from '../datasets';
import { addTeacherCall, emptyUsage, type TeacherUsage } from '../report';
import type { SeedPair } from '../prompts/leafPrompts';
import * as prompts from '../prompts/leafPrompts';
import { stepSchemas, type Faithfulness, type QuestionAnswer, type Rating, type StepSchemas, type TextLimits, defaultTextLimits } from '../prompts/schemas';
import { contextOverflowReason, TeacherContextOverflowError, TeacherInvalidJsonError } from '../teachers/errors';
import type { AnswerSchema, ChatMessage, Teacher } from '../teachers/teacher';
import { unitChunk, unitSeeds, type LeafPlan } from './plan';

/** Why a unit produced no sample, as the report counts it. */
export const dropReasons = {
  invalidJson: 'teacher returned invalid JSON',
  emptyQuestion: 'empty question or answer',
  questionQuality: 'question judged low quality',
  answerQuality: 'answer judged low quality',
  unfaithful: 'answer judged unfaithful to the document',
  irrelevant: 'answer judged irrelevant to the question',
  contextOverflow: contextOverflowReason,
} as const;

/** A candidate that passed its unit's filters, as the run folder stages it until the leaf is finished. */
export interface StagedSample {
  leaf: string;
  unit: number;
  question: string;
  answer: string;
  /** Grounded skills: the generated context. */
  context?: string;
  /** Knowledge: the chunk and its document. */
  document?: string;
  documentFile?: string;
  /** The judges' scores, kept in the dataset's metadata. */
  scores: Record<string, number | boolean>;
}

export interface UnitResult {
  sample?: StagedSample;
  dropped?: string;
  usage: TeacherUsage;
}

export interface StepSettings {
  /** Sampling temperature of the generating steps (judges use 0). */
  temperature: number;
  /** Seed of the run; each call's sampling seed derives from it, the leaf, the unit and the step. */
  seed: number;
  /** Most tokens per answer, per kind of step. */
  maxTokens: { question: number; answer: number; context: number; judge: number };
  limits: TextLimits;
}

export const defaultStepSettings: StepSettings = {
  temperature: 0.7,
  seed: 42,
  maxTokens: { question: 256, answer: 1024, context: 1024, judge: 256 },
  limits: defaultTextLimits,
};

class Dropped extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A step's prompt did not fit the teacher's context (a knowledge unit may shorten its chunk and ask again). */
class Overflow extends Error {
  constructor(readonly error: TeacherContextOverflowError) {
    super(error.message);
  }
}

/** A chunk is cut at most this many times, and never below this many words: a shorter one teaches little. */
const chunkCuts = 3;
const minChunkWords = 60;

/**
 * The chunk shortened so that a prompt of `promptTokens` would fit `budget` tokens (with a margin for the tokenizer not
 * being linear in words), cut at a word boundary; undefined when that leaves too little to be worth asking about.
 */
export function cutChunk(text: string, promptTokens: number, budget: number): string | undefined {
  const words = text.split(/(\s+)/);
  const wordCount = Math.ceil(words.length / 2);
  // The prompt's fixed part is unknown: shrink by the whole excess in words, as if every token were the chunk's.
  const keep = Math.floor(wordCount * (budget / promptTokens) * 0.9);
  if (keep < minChunkWords || keep >= wordCount) return undefined;
  return words.slice(0, keep * 2 - 1).join('');
}

/** A 31-bit sampling seed from the run seed and what the call is for. */
function callSeed(settings: StepSettings, plan: LeafPlan, unit: number, step: string): number {
  return Number.parseInt(sampleId(String(settings.seed), plan.leaf, String(unit), step).slice(0, 8), 16) & 0x7fffffff;
}

/** Runs one unit of a leaf with the teacher. Rejects with the teacher's error when it is not the answer's fault. */
export async function runUnit(teacher: Teacher, plan: LeafPlan, unit: number, settings: StepSettings = defaultStepSettings, signal?: AbortSignal): Promise<UnitResult> {
  const usage = emptyUsage();
  const schemas = stepSchemas(settings.limits);
  const ask = async <T>(step: string, messages: ChatMessage[], schema: AnswerSchema, maxTokens: number, generating: boolean): Promise<T> => {
    const started = Date.now();
    try {
      const r = await teacher.chat(messages, {
        maxTokens,
        temperature: generating ? settings.temperature : 0,
        seed: callSeed(settings, plan, unit, step),
        jsonSchema: schema,
        ...(signal ? { signal } : {}),
      });
      addTeacherCall(usage, r);
      return r.json as T;
    } catch (err) {
      if (err instanceof TeacherInvalidJsonError) {
        addTeacherCall(usage, undefined, Date.now() - started);
        throw new Dropped(dropReasons.invalidJson);
      }
      if (err instanceof TeacherContextOverflowError) throw new Overflow(err);
      throw err;
    }
  };
  try {
    const sample = await (plan.pipeline === 'knowledge' ? knowledgeUnit : skillUnit)(plan, unit, settings, schemas, ask);
    return { sample, usage };
  } catch (err) {
    if (err instanceof Dropped) return { dropped: err.reason, usage };
    if (err instanceof Overflow) return { dropped: dropReasons.contextOverflow, usage };
    throw err;
  }
}

type Ask = <T>(step: string, messages: ChatMessage[], schema: AnswerSchema, maxTokens: number, generating: boolean) => Promise<T>;

function nonEmpty(...texts: (string | undefined)[]): void {
  if (texts.some((t) => !t || !t.trim())) throw new Dropped(dropReasons.emptyQuestion);
}

async function skillUnit(plan: LeafPlan, unit: number, settings: StepSettings, schemas: StepSchemas, ask: Ask): Promise<StagedSample> {
  const { examples } = unitSeeds(plan, unit);
  const mt = settings.maxTokens;
  let context: string | undefined;
  let question: string;
  if (plan.pipeline === 'grounded_skill') {
    let withContext: SeedPair[] = examples.filter((e) => e.context);
    if (withContext.length === 0) withContext = plan.seeds.map((s) => s[0]).filter((e) => e.context).slice(0, 3);
    context = (await ask<{ context: string }>('context', prompts.groundedContextPrompt(plan.task, withContext), schemas.context, mt.context, true)).context.trim();
    nonEmpty(context);
    question = (await ask<{ question: string }>('question', prompts.groundedQuestionPrompt(plan.task, withContext, context), schemas.question, mt.question, true)).question.trim();
  } else {
    question = (await ask<{ question: string }>('question', prompts.freeformQuestionPrompt(plan.task, examples), schemas.question, mt.question, true)).question.trim();
  }
  nonEmpty(question);
  const qRating = await ask<Rating>('question-rating', prompts.questionRatingPrompt(plan.task, question, context), schemas.questionRating, mt.judge, false);
  if (qRating.score < 1) throw new Dropped(dropReasons.questionQuality);
  const answer = (await ask<{ answer: string }>('answer', prompts.skillAnswerPrompt(plan.task, examples, question, context), schemas.answer, mt.answer, true)).answer.trim();
  nonEmpty(answer);
  const pRating = await ask<Rating>('pair-rating', prompts.pairRatingPrompt(plan.task, question, answer, context), schemas.pairRating, mt.judge, false);
  if (pRating.score < 2) throw new Dropped(dropReasons.answerQuality);
  return { leaf: plan.leaf, unit, question, answer, ...(context ? { context } : {}), scores: { question: qRating.score, pair: pRating.score } };
}

async function knowledgeUnit(plan: LeafPlan, unit: number, settings: StepSettings, schemas: StepSchemas, ask: Ask): Promise<StagedSample> {
  const chunk = plan.chunks[unitChunk(plan, unit)];
  const example = plan.seeds[unit % plan.seeds.length];
  const mt = settings.maxTokens;
  // A chunk too long for the teacher's context is cut (its start kept) until the prompt fits: a shorter chunk still
  // gives a grounded sample, and the judges below see the same text the pair was made from.
  let text = chunk.text;
  let qa: QuestionAnswer | undefined;
  for (let cut = 0; !qa; cut++) {
    try {
      qa = await ask<QuestionAnswer>('qa', prompts.knowledgePairPrompt(plan.task, plan.outline || plan.task, example, text), schemas.questionAnswer, mt.answer, true);
    } catch (err) {
      const e = err instanceof Overflow ? err.error : undefined;
      const shorter = e?.promptTokens && e.contextSize && cut < chunkCuts ? cutChunk(text, e.promptTokens, e.contextSize - (e.maxTokens ?? 0)) : undefined;
      if (!shorter) throw err;
      text = shorter;
    }
  }
  const question = qa.question.trim();
  const answer = qa.answer.trim();
  nonEmpty(question, answer);
  const faithful = await ask<Faithfulness>('faithfulness', prompts.faithfulnessPrompt(text, answer), schemas.faithfulness, mt.judge, false);
  if (!faithful.faithful) throw new Dropped(dropReasons.unfaithful);
  const relevance = await ask<Rating>('relevance', prompts.relevancePrompt(question, answer), schemas.relevance, mt.judge, false);
  if (relevance.score < 2) throw new Dropped(dropReasons.irrelevant);
  return { leaf: plan.leaf, unit, question, answer, document: text, documentFile: chunk.file, scores: { faithful: true, relevance: relevance.score } };
}

/** Teacher calls a unit makes when nothing is dropped (for estimates). */
export function callsPerUnit(plan: LeafPlan): number {
  return plan.pipeline === 'knowledge' ? 3 : plan.pipeline === 'grounded_skill' ? 5 : 4;
}
