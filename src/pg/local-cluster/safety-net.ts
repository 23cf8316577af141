/** The exit-time safety net: what the processes forgot to destroy does not outlive them. */

/** What the safety net needs of a cluster. */
export interface EmergencyCleanable {
  emergencyCleanup(): void;
}

/** The clusters of this process that are neither destroyed nor detached. */
export const live = new Set<EmergencyCleanable>();

let netInstalled = false;

/** Clusters a process forgot to destroy are stopped (immediate) and removed when it exits. */
export function installSafetyNet(): void {
  if (netInstalled) return;
  netInstalled = true;
  const cleanupAll = () => {
    for (const c of [...live]) {
      try {
        c.emergencyCleanup();
      } catch {
        // keep going: other clusters still need stopping
      }
    }
  };
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      cleanupAll();
      // If nobody else handles the signal, behave as if we had not caught it.
      if (process.listenerCount(sig) === 1) {
        process.off(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}
