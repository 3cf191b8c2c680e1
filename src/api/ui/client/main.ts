/** The web UI's entry point (bundled by esbuild, served by the API process). */
import { h, render } from 'preact';
import { App } from './app.ts';
import './styles.css';

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(h(App, {}), root);
}
