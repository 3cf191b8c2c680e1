import { crashMatrix } from './crash-matrix.ts';

crashMatrix('pop3');
