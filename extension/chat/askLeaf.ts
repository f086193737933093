// "Ask this leaf": the questions of a leaf with their expected answers, which askRunner.ts sends to base and tuned
// and report.ts tabulates. No vscode import.
import { parseLeaf } from '../../engine/taxonomy/leaf';
import { seedExamples } from '../../engine/taxonomy/seeds';
import type { LeafQuestion } from './report';

export interface LeafQuestions {
  kind: string;
  questions: LeafQuestion[];
}

/**
 * The questions of a leaf. Knowledge asks each question alone: training is meant to put the document's facts into
 * the model, so the context is not given. A grounded skill's question needs its context, which goes first.
 */
export function leafQuestions(text: string, file?: string): LeafQuestions {
  const leaf = parseLeaf(text, file);
  const questions: LeafQuestion[] = [];
  for (const seed of seedExamples(leaf)) {
    for (const qa of seed.qas) {
      const question = qa.question?.value.trim();
      if (!question) continue;
      const context = leaf.kind !== 'knowledge' ? seed.context?.value.trim() : undefined;
      questions.push({
        seed: seed.index + 1,
        question,
        expected: qa.answer?.value.trim() ?? '',
        prompt: context ? `${context}\n\n${question}` : question,
        line: leaf.lineCounter.linePos(qa.question!.span.start).line - 1,
      });
    }
  }
  return { kind: leaf.kind, questions };
}
