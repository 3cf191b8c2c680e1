import { crashMatrix } from './crash-matrix.ts';

crashMatrix('imap');
