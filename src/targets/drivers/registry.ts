import type { DriverName, Stage, StageName } from '../contract.js';
import { browserDriver } from './browser-driver.js';
import { commandDriver } from './command.js';
import { qaDriver } from './qa.js';
import type { Driver } from './types.js';

/**
 * Every stage driver by the name a contract gives in `driver:`. The contract's schema has one stage shape
 * per name (contract.ts); this map's type makes the two agree.
 */
const DRIVERS: { readonly [N in DriverName]: Driver<N> } = {
  command: commandDriver,
  qa: qaDriver,
  browser: browserDriver,
};

/** The driver names, in the order problems list them. */
export function driverNames(): DriverName[] {
  return Object.keys(DRIVERS) as DriverName[];
}

export function isDriverName(name: unknown): name is DriverName {
  return typeof name === 'string' && Object.hasOwn(DRIVERS, name);
}

export function driverNamed(name: DriverName): Driver {
  return DRIVERS[name] as Driver;
}

/** The driver that runs a contract stage. */
export function driverFor(stage: Stage): Driver {
  return driverNamed(stage.driver);
}

/** Whether a driver can run the named stage (qa and browser run only rollout and evaluate). */
export function runsStage(driver: Driver, stage: StageName): boolean {
  return driver.stages === undefined || driver.stages.includes(stage);
}

/** The drivers that can run the named stage. */
export function driversRunning(stage: StageName): DriverName[] {
  return driverNames().filter((name) => runsStage(driverNamed(name), stage));
}
