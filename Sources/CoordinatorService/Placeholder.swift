// CoordinatorService
