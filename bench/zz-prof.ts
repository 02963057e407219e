import { readFileSync } from 'node:fs';
import { parseMessage } from '../src/sip/index.js';
const register = readFileSync('/work/wt-sip/test/sip/corpus/register-initial.sip');
let sink = 0;
const t = Date.now();
for (let i = 0; i < 600000; i++) sink += parseMessage(register).fieldCount;
console.log(600000 / ((Date.now() - t) / 1000), sink);
