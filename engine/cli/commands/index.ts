// The command table: `taxonomy-studio <name>` runs the row with that name. Later commands (generate, train, serve, ...)
// add a module under commands/ and a row here.
import type { Command } from './command';
import { checkCommand } from './check';
import { convertCommand } from './convert';
import { diffCommand } from './diff';
import { exampleCommand } from './example';
import { exportAdapterCommand } from './exportAdapter';
import { exportTrainingCommand } from './exportTraining';
import { fixtureModelCommand } from './fixtureModel';
import { generateCommand } from './generate';
import { inspectCommand } from './inspect';
import { jobCommand } from './job';
import { mergeCommand } from './merge';
import { pipelineCommand } from './pipeline';
import { rpcCommand } from './rpc';
import { serveCommand } from './serve';
import { trainCommand } from './train';

export const commands: readonly Command<any>[] = [checkCommand, convertCommand, diffCommand, exampleCommand, exportAdapterCommand, exportTrainingCommand, fixtureModelCommand, generateCommand, inspectCommand, jobCommand, mergeCommand, pipelineCommand, rpcCommand, serveCommand, trainCommand];

export function findCommand(name: string): Command<any> | undefined {
  return commands.find((c) => c.name === name);
}
