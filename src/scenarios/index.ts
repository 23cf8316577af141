/** Life scenarios and the demo: what `pgkeep scenario` and `pgkeep demo` run. */
export { SCENARIOS, findScenario } from './catalog.js';
export { runScenario, isSkipped, type RunScenarioOptions } from './run-scenario.js';
export { chooseServer, type ServerChoice } from './server-choice.js';
export { explainScenario, renderScenariosDoc } from './doc.js';
export { runDemo, DEMO_STEPS, NEW_ORDERS, LATER_CUSTOMERS, type DemoResult, type DemoOptions, type DemoStepEvent } from './demo.js';
export type * from './types.js';
