/**
 * GraphQL enums (SCREAMING_CASE, Pachyderm's names without the proto prefix), registered with
 * type-graphql. Their mapping from the port's enums is in mappers.ts.
 */
import { registerEnumType } from 'type-graphql';

/** `pps_v2.JobState` without the `JOB_` prefix. */
export enum JobStateGql {
  CREATED = 'CREATED',
  STARTING = 'STARTING',
  RUNNING = 'RUNNING',
  EGRESSING = 'EGRESSING',
  FINISHING = 'FINISHING',
  SUCCESS = 'SUCCESS',
  FAILURE = 'FAILURE',
  KILLED = 'KILLED',
  UNRUNNABLE = 'UNRUNNABLE',
}

registerEnumType(JobStateGql, {
  name: 'JobState',
  description:
    "A job's state (Pachyderm's pps_v2.JobState). Terminal: SUCCESS, FAILURE, KILLED, UNRUNNABLE.",
  valuesConfig: {
    CREATED: { description: 'Created; waits for its input commits and a free slot.' },
    STARTING: { description: 'Inputs ready; the output commit is being started.' },
    RUNNING: { description: 'Datums are being processed.' },
    EGRESSING: { description: 'Output is being copied to an egress target.' },
    FINISHING: { description: 'Every datum done; the output commit is being finished.' },
    SUCCESS: { description: 'Finished: every datum succeeded (or was skipped/recovered).' },
    FAILURE: { description: 'Finished: a datum failed after its retries; see reason.' },
    KILLED: { description: 'Stopped by StopJob or a pipeline update; see reason.' },
    UNRUNNABLE: {
      description: 'Not run: an input commit was finished with an error (an upstream job failed).',
    },
  },
});

/** `pfs_v2.OriginKind`: who made a commit. */
export enum CommitOriginGql {
  USER = 'USER',
  AUTO = 'AUTO',
  FSCK = 'FSCK',
}

registerEnumType(CommitOriginGql, {
  name: 'CommitOrigin',
  description: "Who made a commit (Pachyderm's pfs_v2.OriginKind).",
  valuesConfig: {
    USER: { description: 'A client (addRatings, requestPredictions, bootstrap).' },
    AUTO: { description: 'The system: a pipeline job output commit.' },
    FSCK: { description: 'A repair by fsck.' },
  },
});

/** Which model answered an online prediction or recommendation (services/types.ts ModelSource). */
export enum ModelSourceGql {
  TRAINED = 'TRAINED',
  FOLDED_IN = 'FOLDED_IN',
}

registerEnumType(ModelSourceGql, {
  name: 'ModelSource',
  description:
    'Which model answered: the model version as the train pipeline fitted it, or the same version with the user folded in from ratings committed after its training commit (docs/pipeline.md, "Fold-in").',
  valuesConfig: {
    TRAINED: { description: 'The trained model version as it is (the user has no newer ratings).' },
    FOLDED_IN: {
      description:
        "The model version with this user's factors re-solved from their ratings committed since its training commit (a ridge regression against the frozen item factors, or the ranker's row of the user); the retrain replaces it.",
    },
  },
});
