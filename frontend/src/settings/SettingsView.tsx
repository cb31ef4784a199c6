import { useEffect, useState } from 'react';
import { capabilities as capsApi } from '../api/endpoints';
import { useApp } from '../app/context';
import { applyTheme, loadTheme } from '../ui/theme';
import type { ThemeChoice } from '../ui/theme';
import { HardwarePanel } from './HardwarePanel';
import { LocalApiPanel } from './LocalApiPanel';
import { PerformancePanel } from './PerformancePanel';

function ThemePicker() {
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme);
  return (
    <fieldset className="theme-picker">
      <legend>Theme</legend>
      <div className="radio-row">
        {(['light', 'dark', 'system'] as const).map((choice) => (
          <label key={choice}>
            <input
              type="radio"
              name="theme"
              value={choice}
              checked={theme === choice}
              onChange={() => {
                setTheme(choice);
                applyTheme(choice);
              }}
            />
            {choice === 'system' ? 'As the system' : choice === 'light' ? 'Light' : 'Dark'}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function About() {
  const { api } = useApp();
  const shell = window.hearth;
  const [version, setVersion] = useState<string | null>(null);
  useEffect(() => {
    if (shell) void shell.appVersion().then(setVersion, () => undefined);
    else
      void api.connection.start().then(async (state) => {
        if (state.kind !== 'ready') return;
        const health = await fetch(`${state.backend.base}/health`)
          .then((r) => r.json())
          .catch(() => null);
        if (health?.version) setVersion(health.version);
      });
  }, [api, shell]);
  return (
    <div className="about">
      <p>
        Hearth {version ?? ''} — private, offline chat. {shell ? 'Desktop app.' : 'Running in the browser (web mode).'}
      </p>
      {shell && (
        <div className="button-row">
          <button type="button" className="btn" onClick={() => void shell.openLogs()}>
            Open logs folder
          </button>
          <button type="button" className="btn" onClick={() => void shell.restartBackend()}>
            Restart backend
          </button>
        </div>
      )}
    </div>
  );
}

/** Settings: hardware & runtime (with Upgrade to GPU), performance, the local API server, appearance. */
export function SettingsView() {
  const { api } = useApp();
  const [threads, setThreads] = useState<number | null>(null);
  useEffect(() => {
    capsApi.get(api).then(
      (c) => setThreads(c.hardware.cpu.threads),
      () => undefined,
    );
  }, [api]);
  return (
    <section className="page settings" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <section aria-labelledby="hw-title" className="settings-section">
        <h2 id="hw-title">Hardware &amp; runtime</h2>
        <HardwarePanel />
      </section>
      <section aria-labelledby="perf-title" className="settings-section">
        <h2 id="perf-title">Performance</h2>
        <PerformancePanel cpuThreads={threads} />
      </section>
      <section aria-labelledby="local-api-title" className="settings-section">
        <h2 id="local-api-title">Local API server</h2>
        <LocalApiPanel />
      </section>
      <section aria-labelledby="look-title" className="settings-section">
        <h2 id="look-title">Appearance</h2>
        <ThemePicker />
      </section>
      <section aria-labelledby="about-title" className="settings-section">
        <h2 id="about-title">About</h2>
        <About />
      </section>
    </section>
  );
}
