#include "cli/completion.hpp"

#include <algorithm>
#include <vector>

namespace lethe::cli {
namespace {

// What bash completes at one point of the command line: the words that lead there
// ("lethe audit verify"), and what may follow.
struct Level {
    std::string path;
    std::vector<std::string> subcommands;
    std::vector<std::string> options; // every spelling: -o and --output
    std::vector<std::string> valued;  // the spellings of options that take a value
};

bool hidden(const std::string& group) {
    return group.empty();
}

void add_options(const CLI::App& app, Level& level) {
    for (const CLI::Option* opt : app.get_options()) {
        if (opt->get_positional() || hidden(opt->get_group())) {
            continue;
        }
        std::vector<std::string> names;
        for (const auto& s : opt->get_snames()) {
            names.push_back("-" + s);
        }
        for (const auto& l : opt->get_lnames()) {
            names.push_back("--" + l);
        }
        for (const auto& n : names) {
            level.options.push_back(n);
            if (opt->get_expected_min() > 0) {
                level.valued.push_back(n);
            }
        }
    }
}

void walk(const CLI::App& app, const std::string& path, std::vector<Level>& out) {
    Level level;
    level.path = path;
    add_options(app, level);
    std::vector<const CLI::App*> subs;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (!hidden(sub->get_group())) {
            level.subcommands.push_back(sub->get_name());
            subs.push_back(sub);
        }
    }
    out.push_back(level);
    for (const CLI::App* sub : subs) {
        walk(*sub, path + " " + sub->get_name(), out);
    }
}

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        out += (out.empty() ? "" : " ") + w;
    }
    return out;
}

// A bash function answering, for each path, one of the lists of a Level.
std::string table_function(const std::string& name, const std::vector<Level>& levels,
                           std::vector<std::string> Level::*list) {
    std::string out = name + "() {\n    case \"$1\" in\n";
    for (const auto& level : levels) {
        out += "    \"" + level.path + "\") echo \"" + joined(level.*list) + "\" ;;\n";
    }
    return out + "    esac\n}\n";
}

} // namespace

std::string bash_completion(const CLI::App& app) {
    const std::string program = app.get_name();
    std::string fn = "_" + program;
    std::replace(fn.begin(), fn.end(), '-', '_');
    std::vector<Level> levels;
    walk(app, program, levels);

    std::string out = "# bash completion for " + program +
                      "; generated from its command definitions (" + program +
                      " --help). Do not edit.\n";
    out += table_function(fn + "_subcommands", levels, &Level::subcommands);
    out += table_function(fn + "_options", levels, &Level::options);
    out += table_function(fn + "_valued", levels, &Level::valued);
    out += fn +
           "() {\n"
           "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
           "    local path=\"" +
           program +
           "\" i w\n"
           "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "        w=\"${COMP_WORDS[i]}\"\n"
           "        if [[ \" $(" +
           fn +
           "_subcommands \"$path\") \" == *\" $w \"* ]]; then path=\"$path $w\"; fi\n"
           "    done\n"
           "    if [[ \" $(" +
           fn +
           "_valued \"$path\") \" == *\" $prev \"* ]]; then\n"
           "        mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
           "    elif [[ \"$cur\" == -* ]]; then\n"
           "        mapfile -t COMPREPLY < <(compgen -W \"$(" +
           fn +
           "_options \"$path\")\" -- \"$cur\")\n"
           "    else\n"
           "        mapfile -t COMPREPLY < <(compgen -W \"$(" +
           fn +
           "_subcommands \"$path\")\" -- \"$cur\")\n"
           "        ((${#COMPREPLY[@]})) || mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
           "    fi\n"
           "}\n"
           "complete -F " +
           fn + " " + program + "\n";
    return out;
}

} // namespace lethe::cli
