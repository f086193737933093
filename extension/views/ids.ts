// The names the views go by, built from the view container's id. Each must match package.json (contributes
// viewsContainers, views, and the viewsWelcome `when` clause); test/unit/tree.test.ts holds them to it.
export const viewContainerId = 'taxonomyStudio';
export const taxonomyViewId = `${viewContainerId}.taxonomy`;
export const gapsViewId = `${viewContainerId}.gaps`;
export const changedViewId = `${viewContainerId}.changed`;
/** Context key: false once a load found no taxonomy (the welcome view's condition), true once one is loaded. */
export const hasTaxonomyKey = `${viewContainerId}.hasTaxonomy`;
