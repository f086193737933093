// The Jobs view's id, in the Taxonomy Studio view container (package.json contributes.views; test/unit/tree.test.ts
// holds the list to it).
import { viewContainerId } from '../views/ids';

export const jobsViewId = `${viewContainerId}.jobs`;
