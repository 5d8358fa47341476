"""What the emulator does for each SageMaker operation moto 5.2.5 serves: the emulator's rule, as a table.

Every operation is in exactly one class:

- ``COMPUTED``: does the work (trains, serves, transforms, tunes);
- ``FAILS_AS_AWS``: accepted, and the job ends ``Failed`` with a FailureReason naming what the
  emulator supports, as SageMaker fails a job it cannot run;
- ``BOOKKEEPING``: a record that needs no compute (describe, list, delete, tags, registries);
- ``REFUSED``: answered at once with HTTP 400 ``UnsupportedOperation`` naming the operation and
  what is supported, because moto would report work (Completed, InService) nobody did.

Operations moto does not serve at all are refused by ``scones.emulator.unsupported``.
``tests/emulator_sagemaker/test_operations.py`` walks every operation moto's SageMaker
responses serve and fails on one missing here, so a moto upgrade that adds one is reviewed.
"""

from __future__ import annotations

#: The operations with real compute behind them, and what it is.
COMPUTED: dict[str, str] = {
    "CreateTrainingJob": "trains the built-in image-classification algorithm (compact CPU model)",
    "StopTrainingJob": "stops the training run after its current epoch",
    "CreateEndpoint": "loads the config's image-classification models and serves them",
    "UpdateEndpoint": "loads the new config beside the old one, then swaps without dropping a request",
    "DeleteEndpoint": "stops serving",
    "UpdateEndpointWeightsAndCapacities": "re-weights the traffic between the endpoint's variants",
    "CreateTransformJob": "batch transform: classifies every image of an S3 prefix or manifest to .out files",
    "CreateHyperParameterTuningJob": "runs real training jobs per the strategy and picks the best on the objective",
    "StopTransformJob": "stops the transform after the images in progress",
    "StopHyperParameterTuningJob": "launches no more training jobs and stops the running ones",
}

#: Accepted, then Failed with a reason (what a job SageMaker cannot run looks like).
FAILS_AS_AWS: dict[str, str] = {
    "CreateProcessingJob": "processing runs arbitrary containers, which the emulator does not run",
}

#: Operations whose answer would claim work nobody does; refused at once with this reason.
REFUSED: dict[str, str] = {
    "CreateAutoMLJobV2": "it runs no AutoML (moto would report a job that never trains)",
    "StopAutoMLJob": "it runs no AutoML jobs",
    "CreateCompilationJob": "it compiles no models (moto would report a COMPLETED Neo compilation with no output)",
    "CreateCluster": "it provisions no HyperPod clusters (moto would report one InService)",
    "CreateDomain": "it runs no SageMaker Studio (moto would report a domain InService with a URL that serves nothing)",
    "CreateNotebookInstance": "it runs no notebook instances (moto would report one InService)",
    "StartNotebookInstance": "it runs no notebook instances",
    "StopNotebookInstance": "it runs no notebook instances",
    "StartPipelineExecution": "it runs no SageMaker Pipelines (moto would report the execution Succeeded at once)",
}

#: Records only: nothing to compute, so moto's answer is the truth.
BOOKKEEPING: frozenset[str] = frozenset(
    {
        "AddTags",
        "DeleteTags",
        "ListTags",
        "Search",
        "CreateModel",
        "DescribeModel",
        "DeleteModel",
        "ListModels",
        "CreateEndpointConfig",
        "DescribeEndpointConfig",
        "DeleteEndpointConfig",
        "ListEndpointConfigs",
        "DescribeEndpoint",
        "ListEndpoints",
        "DescribeTrainingJob",
        "ListTrainingJobs",
        "DescribeTransformJob",
        "ListTransformJobs",
        "DescribeProcessingJob",
        "ListProcessingJobs",
        "StopProcessingJob",
        "DescribeHyperParameterTuningJob",
        "ListHyperParameterTuningJobs",
        "DeleteHyperParameterTuningJob",
        "DescribeAutoMLJobV2",
        "ListAutoMLJobs",
        "DescribeCompilationJob",
        "ListCompilationJobs",
        "DeleteCompilationJob",
        "DescribeCluster",
        "DescribeClusterNode",
        "ListClusters",
        "ListClusterNodes",
        "DeleteCluster",
        "DescribeDomain",
        "ListDomains",
        "DeleteDomain",
        "DescribeNotebookInstance",
        "ListNotebookInstances",
        "DeleteNotebookInstance",
        "CreateNotebookInstanceLifecycleConfig",
        "DescribeNotebookInstanceLifecycleConfig",
        "DeleteNotebookInstanceLifecycleConfig",
        "CreatePipeline",
        "DescribePipeline",
        "UpdatePipeline",
        "DeletePipeline",
        "ListPipelines",
        "DescribePipelineExecution",
        "DescribePipelineDefinitionForExecution",
        "ListPipelineExecutions",
        "ListPipelineParametersForExecution",
        "CreateExperiment",
        "DescribeExperiment",
        "DeleteExperiment",
        "ListExperiments",
        "CreateTrial",
        "DescribeTrial",
        "DeleteTrial",
        "ListTrials",
        "CreateTrialComponent",
        "DescribeTrialComponent",
        "UpdateTrialComponent",
        "DeleteTrialComponent",
        "ListTrialComponents",
        "AssociateTrialComponent",
        "DisassociateTrialComponent",
        "CreateModelPackage",
        "DescribeModelPackage",
        "UpdateModelPackage",
        "ListModelPackages",
        "CreateModelPackageGroup",
        "DescribeModelPackageGroup",
        "ListModelPackageGroups",
        "CreateModelCard",
        "DescribeModelCard",
        "UpdateModelCard",
        "DeleteModelCard",
        "ListModelCards",
        "ListModelCardVersions",
        "CreateFeatureGroup",
        "DescribeFeatureGroup",
        # Monitoring job definitions are only definitions: moto serves no schedule that would run them.
        "CreateDataQualityJobDefinition",
        "DescribeDataQualityJobDefinition",
        "DeleteDataQualityJobDefinition",
        "ListDataQualityJobDefinitions",
        "CreateModelBiasJobDefinition",
        "DescribeModelBiasJobDefinition",
        "DeleteModelBiasJobDefinition",
        "ListModelBiasJobDefinitions",
        "CreateModelExplainabilityJobDefinition",
        "DescribeModelExplainabilityJobDefinition",
        "DeleteModelExplainabilityJobDefinition",
        "ListModelExplainabilityJobDefinitions",
        "CreateModelQualityJobDefinition",
        "DescribeModelQualityJobDefinition",
        "DeleteModelQualityJobDefinition",
        "ListModelQualityJobDefinitions",
    }
)

#: Operations the emulator adds to moto's (moto 5.2.5 answers them NotImplemented).
ADDED: frozenset[str] = frozenset(
    {
        "UpdateEndpoint",
        "StopTrainingJob",
        "StopTransformJob",
        "StopHyperParameterTuningJob",
        "ListTrainingJobsForHyperParameterTuningJob",
    }
)


def classify(operation: str) -> str:
    """``"computed"``, ``"fails"``, ``"bookkeeping"`` or ``"refused"``; KeyError for one not in the table."""
    for name, table in (("computed", COMPUTED), ("fails", FAILS_AS_AWS), ("refused", REFUSED)):
        if operation in table:
            return name
    if operation in BOOKKEEPING or operation in ADDED:  # added and not computed: ListTrainingJobsFor...
        return "bookkeeping"
    raise KeyError(operation)


def refusal(operation: str) -> str:
    """The message of the 400 answered for a refused operation: why, and what the emulator computes."""
    return (
        f"The local AWS emulator refuses {operation}: {REFUSED[operation]}. SageMaker operations it computes: "
        f"{', '.join(sorted(COMPUTED))}; it records the others (models, configs, registries, experiments)."
    )
