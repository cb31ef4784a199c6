'use strict';
// Reason and stderr tail come in the query string (set by the main process) and are shown with
// textContent only: backend output is data, never markup.
const params = new URLSearchParams(window.location.search);
document.getElementById('reason').textContent = params.get('reason') || 'The backend stopped.';
const stderr = params.get('stderr');
if (stderr) document.getElementById('stderr').textContent = stderr;

/** @param {string} id @param {() => Promise<unknown>} action */
function wire(id, action, { once }) {
  const button = document.getElementById(id);
  button.addEventListener('click', () => {
    if (once) {
      for (const b of document.querySelectorAll('button')) b.disabled = true;
    }
    action().catch(() => {
      for (const b of document.querySelectorAll('button')) b.disabled = false;
    });
  });
}

wire('restart', () => window.hearth.restartBackend(), { once: true });
wire('use-cpu', () => window.hearth.useCpuRuntime(), { once: true });
wire('open-logs', () => window.hearth.openLogs(), { once: false });
