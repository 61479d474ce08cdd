import Control

/// Rebuilds the state a restarted control starts from: the saved budget (quarter
/// energy, month peak; the library itself notices when the quarter or the month
/// has changed since) and the saved slider, and for every charge point still in
/// the configuration its saved operator settings and session. Points removed from
/// the configuration are dropped; new ones start from their configured values.
/// The operator's last command wins over the configured value until the state
/// file is deleted.
enum RestoredState {
    static func merge(saved: ControlState, model: SiteModel) -> ControlState {
        var state = ControlState(model: model)
        state.budget = saved.budget
        state.settings.sliderKW = saved.settings.sliderKW
        for point in model.chargePoints {
            let id = point.id
            if let mode = saved.settings.modes[id] { state.settings.modes[id] = mode }
            if let current = saved.settings.manualCurrents[id] {
                // A saved manual current outside a changed configuration's range is not kept.
                if (point.minCurrent...point.maxCurrent).contains(current) { state.settings.manualCurrents[id] = current }
            }
            if let priority = saved.settings.priorities[id] { state.settings.priorities[id] = priority }
            if let session = saved.sessions[id], session.phases <= point.phases { state.sessions[id] = session }
        }
        return state
    }
}
