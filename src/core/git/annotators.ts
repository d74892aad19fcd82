// Several people (docs/git.md): who decided (the git identity, a setting or --annotator), several
// people's decisions on one question side by side, human-human agreement (Cohen's kappa per pair,
// Fleiss' kappa, Krippendorff's alpha) and "my queue" (the records a person has not decided).
//
//   "annotations": {
//     "human":     { "label": { "value": "positive", "user": "bob", "status": "submitted", "time": "…" } },  // the current decision (the latest)
//     "decisions": { "label": [                                                                              // every person's latest, when more than one decided
//       { "value": "negative", "user": "maria", "status": "submitted", "time": "…" },
//       { "value": "positive", "user": "bob", "status": "submitted", "time": "…" } ] } }
// The figures and the reading of decisions by person are in ../metrics/people.ts (the agreement
// report and `curate agreement` use the same code); re-exported here.
export {
  annotatorsAgreement,
  annotatorsAgreementOfCounts,
  decisionsByPerson,
  fleissKappa,
  krippendorffAlphaNominal,
  PeopleCounter,
  type AnnotatorsReport,
  type PairAgreement,
} from '../metrics/people';

export { keepEveryDecision } from './decisions';
