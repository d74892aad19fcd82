// Writes media/questions.schema.json, the JSON Schema of .curator/questions.json, from the zod
// schema (src/core/questions/declarations.ts). Run after changing the declarations' schema:
//   node --import tsx scripts/questions-schema.ts
// test/unit/questions-core.test.ts fails while the file is out of date.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { questionsJsonSchema } from '../src/core/questions/declarations';

writeFileSync(
  join(__dirname, '..', 'media', 'questions.schema.json'),
  `${JSON.stringify(questionsJsonSchema(), null, 2)}\n`,
);
