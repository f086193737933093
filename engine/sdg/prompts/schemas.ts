// The JSON schemas every SDG step answers with. They are written in the subset both sides take: ajv validates the
// answer of any teacher, and node-llama-cpp turns the same schema into a grammar for a local teacher (so every string
// has a maxLength, every object lists all its properties as required, and nothing else may appear). Bounded strings
// keep a grammar-constrained answer inside maxTokens even from a model that never chooses to close a string.
import type { AnswerSchema } from '../teachers/teacher';

/** Longest texts a step may produce, in characters. */
export interface TextLimits {
  question: number;
  answer: number;
  context: number;
  explanation: number;
}

export const defaultTextLimits: TextLimits = { question: 600, answer: 2400, context: 3000, explanation: 400 };

function text(maxLength: number): Record<string, unknown> {
  return { type: 'string', minLength: 1, maxLength };
}

function object(name: string, properties: Record<string, Record<string, unknown>>): AnswerSchema {
  return { name, schema: { type: 'object', properties, required: Object.keys(properties), additionalProperties: false } };
}

export interface StepSchemas {
  question: AnswerSchema;
  answer: AnswerSchema;
  context: AnswerSchema;
  questionAnswer: AnswerSchema;
  /** 0 or 1: is the question a good one. */
  questionRating: AnswerSchema;
  /** 1 to 3: how good is the answer to the question. */
  pairRating: AnswerSchema;
  /** Does every claim of the answer come from the document. */
  faithfulness: AnswerSchema;
  /** 0 to 2: does the answer address the question. */
  relevance: AnswerSchema;
}

export function stepSchemas(limits: TextLimits = defaultTextLimits): StepSchemas {
  const explanation = text(limits.explanation);
  return {
    question: object('question', { question: text(limits.question) }),
    answer: object('answer', { answer: text(limits.answer) }),
    context: object('context', { context: text(limits.context) }),
    questionAnswer: object('question_answer', { question: text(limits.question), answer: text(limits.answer) }),
    questionRating: object('question_rating', { explanation, score: { enum: [0, 1] } }),
    pairRating: object('pair_rating', { explanation, score: { enum: [1, 2, 3] } }),
    faithfulness: object('faithfulness', { explanation, faithful: { type: 'boolean' } }),
    relevance: object('relevance', { explanation, score: { enum: [0, 1, 2] } }),
  };
}

/** The answer shapes, as the pipelines read them after validation. */
export interface QuestionAnswer {
  question: string;
  answer: string;
}
export interface Rating {
  explanation: string;
  score: number;
}
export interface Faithfulness {
  explanation: string;
  faithful: boolean;
}
